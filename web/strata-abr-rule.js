// strata ABR rule for dash.js (v4/v5 custom rule API): every decision comes from the strata
// ABR daemon (`strata abrd`, default http://127.0.0.1:8333). dash.js rules are synchronous,
// so after each finished fragment the rule POSTs asynchronously and uses the cached reply
// for the next segment.
//
//   player.addABRCustomRule('qualitySwitchRules', 'StrataRule', StrataRule);
//   StrataRule.configure({ daemon: 'http://127.0.0.1:8333', policy: 'mpc' });
/* global dashjs */
(function (global) {
  'use strict';
  var conf = { daemon: 'http://127.0.0.1:8333', policy: 'mpc' };
  var sessionId = null, pending = null, cached = null, seq = 0, ladderKey = '';

  function post(path, body) {
    return fetch(conf.daemon + path, { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body) }).then(function (r) { return r.json(); });
  }

  function ensureSession(reps, segDur) {
    var key = reps.map(function (r) { return r.id + ':' + r.bandwidth; }).join(',');
    if (sessionId !== null && key === ladderKey) { return pending || Promise.resolve(); }
    ladderKey = key;
    sessionId = null;
    pending = post('/v1/sessions', {
      policy: conf.policy, segment_duration_s: segDur,
      ladder: reps.map(function (r) { return { id: String(r.id), bandwidth_bps: r.bandwidth }; })
    }).then(function (res) { sessionId = res.session_id; pending = null; });
    return pending;
  }

  function StrataRuleClass() {
    var context = this.context;
    var factory = dashjs.FactoryMaker;
    var SwitchRequest = factory.getClassFactoryByName('SwitchRequest');

    function getMaxIndex(rulesContext) {
      var info = rulesContext.getMediaInfo();
      var reps = (info.representations || info.bitrateList || []).map(function (r, i) {
        return { id: r.id !== undefined ? r.id : i, bandwidth: r.bandwidth || r.bitrate };
      });
      var segDur = rulesContext.getRepresentationInfo ? rulesContext.getRepresentationInfo().fragmentDuration : 4;
      ensureSession(reps, segDur || 4);
      var sr = SwitchRequest(context).create();
      if (cached !== null) {
        for (var i = 0; i < reps.length; i++) {
          if (String(reps[i].id) === cached) { sr.quality = i; sr.representation = info.representations ? info.representations[i] : undefined; }
        }
        sr.reason = { rule: 'StrataRule', daemon: cached };
        sr.priority = SwitchRequest.PRIORITY.STRONG;
      }
      return sr;
    }

    return { getMaxIndex: getMaxIndex, getSwitchRequest: getMaxIndex, reset: function () {} };
  }

  // fragmentLoaded feeds the daemon: call it from the player's FRAGMENT_LOADING_COMPLETED
  // event with the request (dash.js HTTPRequest: trequest, tresponse, tfinish, bytesTotal).
  function fragmentLoaded(req, repId, bufferS, stallMs) {
    if (sessionId === null || req.mediaType !== 'video' || req.type !== 'MediaSegment') { return; }
    var body = { seq: seq++, buffer_s: bufferS, stall_ms: stallMs || 0,
      last: { representation_id: String(repId), bytes: req.bytesTotal,
        trequest_ms: +req.requestStartDate, tresponse_ms: +req.firstByteDate, tfinish_ms: +req.requestEndDate } };
    post('/v1/sessions/' + sessionId + '/decisions', body).then(function (d) { cached = d.representation_id; });
  }

  StrataRuleClass.__dashjs_factory_name = 'StrataRule';
  var StrataRule = global.dashjs ? global.dashjs.FactoryMaker.getClassFactory(StrataRuleClass) : StrataRuleClass;
  StrataRule.configure = function (c) { for (var k in c) { conf[k] = c[k]; } };
  StrataRule.fragmentLoaded = fragmentLoaded;
  global.StrataRule = StrataRule;
})(typeof window !== 'undefined' ? window : this);
