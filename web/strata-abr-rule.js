// strata ABR rule for dash.js 4.x (custom rule API): every decision comes from the strata
// ABR daemon (`strata abrd`, default http://127.0.0.1:8333). dash.js rules are synchronous,
// so the rule POSTs asynchronously after each finished fragment and applies the cached reply
// to the next segment; the first segment's decision is fetched before playback starts.
//
//   StrataRule.configure({ daemon: 'http://127.0.0.1:8333', policy: 'mpc' });
//   StrataRule.prepare(ladder, segmentDurationS, segments).then(function () {
//     player.addABRCustomRule('qualitySwitchRules', 'StrataRule', StrataRule);
//     player.on(dashjs.MediaPlayer.events.FRAGMENT_LOADING_COMPLETED, function (e) {
//       StrataRule.fragmentLoaded(e.request, player.getBufferLength('video'), stallMs);
//     });
//     player.initialize(video, mpdUrl, true);
//   });
//
// ladder: [{id, bandwidth}] in the MPD's order (dash.js quality index = position).
/* global dashjs */
(function (global) {
  'use strict';
  var conf = { daemon: 'http://127.0.0.1:8333', policy: 'mpc' };
  var sessionId = null;
  var ladder = [];
  var segments = 0;
  var cached = null;     // representation_id of the latest reply
  var cachedSeq = -1;    // the segment it is for
  var pending = null;    // the request body in flight (for the synchronous catch-up)
  var lastStallMs = 0;   // cumulative stall already reported
  var log = [];          // {seq, representation_id, reason} per reply, for tests and debugging

  function request(method, path, body) {
    return fetch(conf.daemon + path, {
      method: method, headers: { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (j) {
        if (!r.ok) { throw new Error('strata abrd: ' + (j.detail || j.title || r.status)); }
        return j;
      });
    });
  }

  function answered(body, d, how) {
    if (body.seq <= cachedSeq) { return; }  // the catch-up got there first
    cached = d.representation_id;
    cachedSeq = body.seq;
    if (pending === body) { pending = null; }
    log.push({ seq: body.seq, representation_id: d.representation_id, reason: d.reason, via: how });
  }

  function decide(body) {
    pending = body;
    return request('POST', '/v1/sessions/' + sessionId + '/decisions', body).then(function (d) {
      answered(body, d, 'async');
      return d;
    });
  }

  // catchUp asks again, synchronously, for the decision in flight.
  function catchUp() {
    var body = pending;
    var x = new XMLHttpRequest();
    x.open('POST', conf.daemon + '/v1/sessions/' + sessionId + '/decisions', false);
    x.setRequestHeader('Content-Type', 'application/json');
    try {
      x.send(JSON.stringify(body));
      if (x.status === 200) { answered(body, JSON.parse(x.responseText), 'sync'); }
    } catch (e) { /* keep the previous decision */ }
  }

  // prepare opens a daemon session for the ladder and asks for segment 0's decision.
  function prepare(reps, segDurS, nSegments) {
    ladder = reps.map(function (r) { return { id: String(r.id), bandwidth_bps: r.bandwidth }; });
    segments = nSegments || 0;
    return request('POST', '/v1/sessions', {
      policy: conf.policy, segment_duration_s: segDurS, segments: segments, ladder: ladder
    }).then(function (res) {
      sessionId = res.session_id;
      return decide({ seq: 0, buffer_s: 0, stall_ms: 0 });
    });
  }

  // fragmentLoaded reports a finished media fragment (dash.js FragmentRequest) and asks for
  // the next segment's decision; stallMs is the session's cumulative stall time.
  function fragmentLoaded(req, bufferS, stallMs) {
    if (sessionId === null || req.mediaType !== 'video' || req.type !== 'MediaSegment') { return; }
    var seq = req.index + 1;
    if (segments && seq >= segments) { return; }
    var stall = Math.max((stallMs || 0) - lastStallMs, 0);
    lastStallMs = stallMs || 0;
    decide({
      seq: seq, buffer_s: bufferS || 0, stall_ms: stall,
      last: {
        representation_id: String(req.representationId), bytes: req.bytesTotal,
        trequest_ms: +req.requestStartDate, tresponse_ms: +req.firstByteDate, tfinish_ms: +req.requestEndDate
      }
    });
  }

  // finish closes the session and returns the daemon's QoE summary.
  function finish() {
    if (sessionId === null) { return Promise.resolve(null); }
    var id = sessionId;
    sessionId = null;
    return request('DELETE', '/v1/sessions/' + id);
  }

  function StrataRuleClass() {
    var context = this.context;
    var SwitchRequest = dashjs.FactoryMaker.getClassFactoryByName('SwitchRequest');

    function getMaxIndex(rulesContext) {
      var sr = SwitchRequest(context).create();
      var info = rulesContext.getMediaInfo();
      if (!info || info.type !== 'video') { return sr; }
      if (pending !== null && sessionId !== null) { catchUp(); }
      if (cached === null) { return sr; }
      for (var i = 0; i < ladder.length; i++) {
        if (ladder[i].id === cached) {
          sr.quality = i;
          sr.reason = { rule: 'StrataRule', daemon: cached, seq: cachedSeq };
          sr.priority = SwitchRequest.PRIORITY.STRONG;
        }
      }
      return sr;
    }

    return { getMaxIndex: getMaxIndex, reset: function () {} };
  }

  StrataRuleClass.__dashjs_factory_name = 'StrataRule';
  var StrataRule = global.dashjs ? global.dashjs.FactoryMaker.getClassFactory(StrataRuleClass) : StrataRuleClass;
  StrataRule.configure = function (c) { for (var k in c) { conf[k] = c[k]; } };
  StrataRule.prepare = prepare;
  StrataRule.fragmentLoaded = fragmentLoaded;
  StrataRule.finish = finish;
  StrataRule.decisions = function () { return log.slice(); };
  global.StrataRule = StrataRule;
})(typeof window !== 'undefined' ? window : this);
