# strata — see README.md. `make test` is what CI runs (.ci/run).
SHELL := /bin/bash
GO ?= go
GOBIN := $(shell $(GO) env GOPATH)/bin
STATICCHECK_VERSION := v0.8.2
SHARED ?= ../shared
Y4M_DIR ?= /tmp/strata-media
PYTHON := /usr/bin/python3

# Debian packages, each installed only when missing (apt-get runs at most once).
define apt_ensure
	@missing=""; for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi
endef

.PHONY: check resample-train all build build-emu gpu-bundle setup play abr-eval abr-train abr-train-classic abr-train-layered abr-tune-layered abr-learned-eval ptx ptxas cudatest emutest test vet staticcheck gotest fidelity bench fuzz setup-train y4m train export demo serve-demo clean

all: build

build:
	$(GO) build -o bin/ ./cmd/...

# The binaries with the CPU emulation of the CUDA kernels (--hwdec emu, bench --backend emu),
# which plain builds leave out: it is g++-compiled kernel code for testing only.
build-emu:
	$(GO) build -tags emu -o bin/ ./cmd/...

# ffmpeg: tests decode the shared clips with it (internal/testclip).
# The desktop player (Ebiten/GLFW, cgo): X11 and OpenGL headers; its test runs it under Xvfb
# with Mesa's software OpenGL.
APT_PACKAGES := ffmpeg pkg-config libgl1-mesa-dev libgl1-mesa-dri libx11-dev libxrandr-dev libxcursor-dev \
  libxinerama-dev libxi-dev libxxf86vm-dev xvfb
# The ABR daemon's browser test: Debian's Chromium; dash.js from npm (web/package.json, pinned).
APT_PACKAGES += chromium
DASHJS_VERSION := $(shell sed -n 's/.*"dashjs": "\(.*\)".*/\1/p' web/package.json)

# The CUDA build links against the driver API's stub (no GPU anywhere): cuda.h, the stub
# libcuda and ptxas, unpacked from Debian's non-free packages into CUDA_DIR once.
CUDA_DIR ?= $(HOME)/.cache/strata/cuda-11.8
CUDA_ENV := CGO_CFLAGS="-I$(CUDA_DIR)/include" CGO_LDFLAGS="-L$(CUDA_DIR)/lib" LD_LIBRARY_PATH="$(CUDA_DIR)/lib"

setup:
	$(call apt_ensure,$(APT_PACKAGES))
	@scripts/cuda-stubs.sh $(CUDA_DIR)
	@grep -qs '"version": "$(DASHJS_VERSION)"' web/node_modules/dashjs/package.json || (cd web && npm ci --no-audit --no-fund)
	@test -x $(GOBIN)/staticcheck && $(GOBIN)/staticcheck -version | grep -q "$(STATICCHECK_VERSION:v%=%)" || \
	  $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

# The desktop player on the built-in demo (in-process HTTP/3 origin on loopback), shaped by
# a real trace so the overlay shows adaptation. Needs a display.
PLAY_TRACE ?= $(SHARED)/abr/traces/oboe/trace_79.txt
PLAY_FLAGS ?=
play: setup
	$(GO) run ./cmd/strata-player --trace $(PLAY_TRACE) $(PLAY_FLAGS)

test: setup vet staticcheck gotest emutest cudatest ptxas

# Everyday work: vet, staticcheck and every test under -short (the long end-to-end runs
# skip), no installs, no root; a few minutes. Needs what make setup installed once.
check:
	$(GO) vet ./...
	@if [ -x $(GOBIN)/staticcheck ]; then $(GOBIN)/staticcheck ./...; \
	  else echo "staticcheck missing: go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)"; exit 1; fi
	$(GO) test -short -count=1 ./...

vet:
	$(GO) vet ./...

staticcheck:
	$(GOBIN)/staticcheck ./...

# Every test once, then every package again under the race detector (they all start
# goroutines or test code that does); under -short the few long end-to-end runs (whole demo
# playbacks, the browser and window tests, drift on the test clips) skip the second pass.
# Last, the decoding packages on the portable Go path (STRATA_NOSIMD=1: no AVX2 kernels).
gotest:
	$(GO) test -p 1 -count=1 ./...
	$(GO) test -race -short -p 1 -count=1 ./...
	STRATA_NOSIMD=1 $(GO) test -count=1 ./decoder ./decoder/tensor ./decoder/entropy ./encoder ./player

# The CUDA kernels emulated on the CPU (build tag emu): equal to the Go engine frame for
# frame, and the emu backend of bench and play.
emutest:
	$(GO) vet -tags emu ./...
	$(GO) test -tags emu -count=1 ./decoder/gpu
	$(GO) test -tags emu -count=1 -run 'BenchDecode|HWDec' ./cmd/strata

# Real-time measurements on the wall clock (not in make test: they need a quiet machine):
# the player against the simulator over a shaped HTTP/3 origin, the shaper against a trace.
fidelity:
	STRATA_REALTIME=1 $(GO) test -count=1 -v -run 'Fidelity|ShapedThroughput|TestLiveSession$$|TestLiveEncodeSession' ./player ./net/origin ./cmd/strata

# The CUDA backend built and linked (-tags cuda) against the stub driver; its tests run,
# GPU-only ones skip with the driver's error as the reason.
cudatest:
	$(CUDA_ENV) $(GO) vet -tags cuda ./...
	$(CUDA_ENV) $(GO) build -tags cuda -o build/cuda-bin/ ./cmd/...
	$(CUDA_ENV) $(GO) test -tags cuda -count=1 -v -run 'TestOpen|TestGPU|HWDec' ./decoder/cuda ./cmd/strata 2>&1 | grep -E '^(=== RUN|--- |    |ok|FAIL|PASS)'; exit $${PIPESTATUS[0]}

# What scripts/gpu-check.sh runs on a lent GPU machine (which may have no Go): the CUDA
# build of strata and the CUDA test binary, linked against the stub driver here.
gpu-bundle:
	mkdir -p build/gpu
	$(CUDA_ENV) $(GO) build -tags cuda -ldflags="-s -w" -o build/gpu/strata ./cmd/strata
	$(CUDA_ENV) $(GO) test -tags cuda -ldflags="-s -w" -c -o build/gpu/cuda.test ./decoder/cuda

# Offline validation of the committed PTX.
ptxas:
	$(CUDA_DIR)/bin/ptxas -arch=sm_52 kernels/decode.ptx -o /dev/null
	$(CUDA_DIR)/bin/ptxas -arch=sm_90 kernels/decode.ptx -o /dev/null

bench:
	$(GO) test -run '^$$' -bench . -benchtime 2s ./...

# Short fuzzing runs of every fuzz target (the corpora under testdata/fuzz run in `make test`).
FUZZTIME ?= 30s
fuzz:
	for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; done; done

# --- codec training (Python + PyTorch from Debian; the only non-Go code) ---
setup-train:
	$(call apt_ensure,ffmpeg python3-torch python3-numpy)

y4m: setup
	$(SHARED)/media/to-y4m.sh $(Y4M_DIR)

# The codec's training run (docs/MODEL.md; resumes from build/train/ckpt.pt), then the
# export to assets/model with the golden vectors of the decoder's parity tests.
TRAIN_STEPS ?= 60000
train: setup-train y4m
	$(PYTHON) encoder/train/train.py --y4m-dir $(Y4M_DIR)/train --work build/train --steps $(TRAIN_STEPS)

# The entropy tables are then re-fitted to what the encoder sends (its rate–distortion
# quantizer; docs/MODEL.md) on training clips — never the test clips.
comma := ,
space := $(subst ,, )
REFIT_CLIPS := $(subst $(space),$(comma),$(foreach c,foreman_cif hall_qcif chaplin_360p mobile_cif_pcm bikes_272p akiyo_cif,$(Y4M_DIR)/train/$(c).y4m))
# The codec-aware half-resolution rung (assets/resample/README.md): its learned down- and
# upsampler, trained through the real codec (bin/strata) on ten training clips.
RESAMPLE_CLIPS := foreman_cif tempete_cif waterfall_cif stefan_sif bowing_cif tt_sif vtc1nw_cif pamphlet_cif bmx_trees_240p tennis_240p
resample-train: setup-train build y4m
	$(PYTHON) encoder/train/resample.py --strata bin/strata --out build/resample \
	  --clips $(subst $(space),$(comma),$(foreach c,$(RESAMPLE_CLIPS),$(Y4M_DIR)/train/$(c).y4m)) \
	  --frames 32 --rounds 5 --steps 2500 --lr 2e-3 --lr-down 2e-4 --beta 10 --seed 1
	cp build/resample/down.sdwn build/resample/up.senh assets/resample/

export: setup-train build y4m
	$(PYTHON) encoder/train/export.py --ckpt build/train/ckpt.pt --out assets/model --golden decoder/testdata
	bin/strata refit-tables --weights assets/model --out assets/model --clips $(REFIT_CLIPS) --frames 33 --subgop 32 --iters 2

# --- the demo stream (assets/demo): Big Buck Bunny (CC-BY 3.0, Blender Foundation) ---
DEMO_SRC ?= $(SHARED)/media/demo/bbb_720p_30s_vp8.webm
DEMO_LAYERS ?= 3
demo: setup build
	mkdir -p build/demo
	ffmpeg -v error -y -i $(DEMO_SRC) -vf scale=640:360:flags=lanczos,fps=20 -pix_fmt yuv420p -f yuv4mpegpipe build/demo/bbb360.y4m
	for s in 8 16 32; do bin/strata encode --in build/demo/bbb360.y4m --out build/demo/enc-s$$s \
	  --layers $(DEMO_LAYERS) --subgop $$s --segment 2s || exit 1; done
	find assets/demo -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
	bin/strata package --in build/demo/enc-s8,build/demo/enc-s16,build/demo/enc-s32 --out assets/demo --joined virtual

# The layered-policy evaluation (README): a second clip encoded with 6 layers, then every
# policy on three trace sets, and decode-bound runs.
EVAL_CLIP := build/eval/mix360.y4m
$(EVAL_CLIP):
	mkdir -p build/eval
	ffmpeg -v error -y -i $(Y4M_DIR)/train/tos_360p.y4m -i $(Y4M_DIR)/train/chaplin_360p.y4m -i $(Y4M_DIR)/train/bikes_272p.y4m \
	  -filter_complex "[0:v]fps=24,setsar=1[a];[1:v]fps=24,setsar=1[b];[2:v]scale=640:272,pad=640:360:0:44,fps=24,setsar=1[c];[a][b][c]concat=n=3:v=1[out]" \
	  -map "[out]" -pix_fmt yuv420p -f yuv4mpegpipe $@
build/eval/mix-s8/stream.json: $(EVAL_CLIP) | build
	bin/strata encode --in $(EVAL_CLIP) --out build/eval/mix-s8 --layers 6 --subgop 8 --segment 2s
abr-eval: y4m build build/eval/mix-s8/stream.json
	scripts/abr-eval.sh

# The learned ABR policy (abr/models): DAgger on the oracle in the simulator, seeds fixed,
# the committed models' exact sequence of runs (each continues the previous one's model;
# the result does not depend on --workers). About 31 + 25 + 10 + 2.5 minutes (classic) and
# 6 + 3 + 9 minutes (layered) here; each final run also chooses its margin (training + dev
# traces). The classic model is an ensemble: two DAgger rollouts from the single network
# (c2) make a data set (its states and those of one more iteration), then four copies of c2
# are fitted to it with different batch orders and their mean score decides.
ABRT := build/abr-train
abr-train: abr-train-classic abr-train-layered
abr-train-classic: build
	bin/strata train-abr --kind classic --iters 6 --hidden 96,96 --label-rate 0.3 --out $(ABRT)/c1
	bin/strata train-abr --kind classic --init $(ABRT)/c1/classic.snn --iters 4 --label-rate 0.5 --seed 2 --out $(ABRT)/c2
	bin/strata train-abr --kind classic --init $(ABRT)/c2/classic.snn --iters 1 --label-rate 0.5 --seed 11 --data-out $(ABRT)/classic-choices.gob --out $(ABRT)/c3
	bin/strata train-abr --kind classic --init $(ABRT)/c2/classic.snn --data $(ABRT)/classic-choices.gob --ensemble 4 --epochs 12 --lr 3e-4 --seed 1 --out abr/models
# The layered model learns on the demo stream (assets/demo): retrain it when the demo changes.
abr-train-layered: build
	bin/strata train-abr --kind layered --iters 5 --label-rate 0.5 --out $(ABRT)/l1
	bin/strata train-abr --kind layered --init $(ABRT)/l1/layered.snn --iters 4 --label-rate 0.5 --tie 0.02 --seed 2 --out $(ABRT)/l2
	bin/strata train-abr --kind layered --init $(ABRT)/l2/layered.snn --iters 5 --label-rate 1 --ce-weight 0.5 --seed 3 --out abr/models
# Fine-tuning the committed layered model on the current demo (how the shipped model was made
# after the bitstream-v6 demo; about 5 minutes).
abr-tune-layered: build
	bin/strata train-abr --kind layered --init abr/models/layered.snn --iters 4 --label-rate 1 --ce-weight 0.5 --seed 6 --out abr/models
abr-learned-eval: build
	scripts/abr-learned-eval.sh

# PTX of the decoder kernels, committed with the source's hash (needs nvcc: the full
# nvidia-cuda-toolkit from Debian's non-free; run it when kernels/decode.cu changes).
# Regenerating the PTX needs nvcc (Debian's non-free nvidia-cuda-toolkit; setup enables non-free).
ptx: setup
	$(call apt_ensure,nvidia-cuda-toolkit)
	nvcc -ptx -arch=compute_52 --fmad=false -o build/decode.ptx kernels/decode.cu
	{ echo "// strata decode.cu sha256 $$(sha256sum kernels/decode.cu | cut -d' ' -f1)"; cat build/decode.ptx; } > kernels/decode.ptx

serve-demo: build
	bin/strata serve --dir assets/demo --ca build/strata-ca.pem

clean:
	rm -rf bin
