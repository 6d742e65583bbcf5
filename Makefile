# frr-renderer. `make test` is what CI runs; it installs what the tests need (Debian's FRR 8.4,
# a cached Debian 13 root file system with FRR 10.3, staticcheck) on the first run.

GO          ?= go
CACHE       ?= $(or $(FRR_RENDERER_CACHE),/var/cache/frr-renderer)
TOOLS       := $(CACHE)/tools
STATICCHECK := $(TOOLS)/staticcheck-v0.8.2
FUZZTIME    ?= 20s
VERSION     := $(shell cat VERSION)
LDFLAGS     := -X github.com/frr-renderer/frr-renderer/internal/version.Version=$(VERSION)

.PHONY: all run build test unit lint deps bench fuzz golden-update clean

all: build

## run: render the embedded seed scenario (the blog's Hands-On) for every node.
run:
	$(GO) run ./cmd/frr-renderer render

## demo: the live demo (root, Debian 12; hack/demo): a ToR and three nodes in network namespaces
## with FRR 8.4, an `frr-renderer run` per node, a client behind the ToR that fetches the
## LoadBalancer IP; changes the Service's IP and times the ToR. From a terminal the lab stays up
## until Enter; DEMO_FLAGS=-interactive=false runs straight through. Cleans up after itself.
.PHONY: demo
DEMO_GO := $(if $(shell command -v $(GO)),$(GO),/usr/local/go/bin/go)
demo:
	$(DEMO_GO) build -o bin/frr-renderer-demo ./hack/demo
	GO=$(DEMO_GO) ./bin/frr-renderer-demo $(DEMO_FLAGS)

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/frr-renderer ./cmd/frr-renderer

## images: the two container images as `docker save` archives (no engine, no registry needed),
## tagged with VERSION: frr-renderer/frr-renderer (the sidecar) and frr-renderer/frr (FRR 10).
## Prints their paths; import with `ctr -n k8s.io images import FILE` or `docker load -i FILE`.
.PHONY: images
images: deps
	@FRR_RENDERER_CACHE=$(CACHE) GO=$(GO) ./hack/images.sh

## manifests: deploy/manifests/frr-renderer.yaml, the chart rendered with its default values.
.PHONY: manifests
manifests:
	FRR_RENDERER_CACHE=$(CACHE) ./hack/manifests.sh > deploy/manifests/frr-renderer.yaml.new
	mv deploy/manifests/frr-renderer.yaml.new deploy/manifests/frr-renderer.yaml

## deploy-test: the chart (helm lint, the manifests current, both renderings applied to a real API
## server) and the seed as a cluster of real kubelets running the chart's DaemonSet with the
## images (test/deploy). Part of `make test`.
.PHONY: deploy-test
deploy-test: deps kube-binaries
	$(GO) test -count=1 -v -timeout 30m ./test/deploy/

## kube-binaries: build (once, cached by version) kube-apiserver and etcd for the end-to-end tests,
## and kubelet, kube-controller-manager, kube-scheduler and kubectl for the cluster test; prints
## their directories. The first build takes ~15-20 min.
.PHONY: kube-binaries
kube-binaries:
	@FRR_RENDERER_CACHE=$(CACHE) GO=$(GO) ./hack/kube-binaries.sh
	@FRR_RENDERER_CACHE=$(CACHE) GO=$(GO) ./hack/kube-binaries.sh --node

## test: lint, then every test with the race detector, real FRR 8.4 and 10.3, a real
## kube-apiserver and etcd (test/e2e) and the cluster of real kubelets (test/deploy) included,
## then the soak for five minutes.
test: deps kube-binaries lint
	$(GO) test -race -count=1 -timeout 30m ./...
	$(MAKE) --no-print-directory soak SOAK=5m SOAK_TIMEOUT=30m
	$(MAKE) --no-print-directory fuzz FUZZTIME=10s

## e2e: the sidecar end to end: real etcd + kube-apiserver on loopback, Cilium's CRDs, the seed,
## the sidecar for cp-1, FRR 8.4 and 10.3 in network namespaces and a real FRR ToR.
.PHONY: e2e
e2e: deps kube-binaries
	$(GO) test -race -count=1 -v -run 'TestSidecar' ./test/e2e/

## soak: cp-1's sidecar in Kubernetes mode (as `make e2e`) under random changes for $(SOAK):
## Services and LoadBalancer IPs added and removed, an advertisement's selector, communities and
## local preference, the PeerConfig's timers, the password (ToR first, then the Secret), bgpd and
## the sidecar SIGKILLed and started again. Ends with the ToR and FRR checked against the final
## objects and the sidecar's goroutine, heap and RSS slopes logged (growth fails runs of 5m and
## more). The log prints the seed: E2E_SEED=N repeats the changes. E2E_FRR=8 for FRR 8.4.
## `make test` runs it for 5m.
.PHONY: soak
SOAK         ?= 1h
SOAK_TIMEOUT ?= 2h
soak: deps kube-binaries
	E2E_SOAK=$(SOAK) $(GO) test -count=1 -v -timeout $(SOAK_TIMEOUT) -run '^TestSoak$$' ./test/e2e/

## faults: the fault tests, collected by name from the packages that hold them (all but the
## burst and the minute-long API server outage also run in `make test`, which does not run
## `make faults`; the soak SIGKILLs bgpd and the sidecar at random, see above):
## - internal/vtysh TestApplierOnTheWire: bgpd, then zebra, SIGKILLed and started again beside a
##   live ToR: the configuration is back within ~2 s and, with graceful restart, the ToR never
##   loses the route. TestApplierZebraAndBgpdKilled: zebra and bgpd SIGKILLed together and started
##   in watchfrr's order: with graceful restart the ToR keeps every route (stale) all along;
##   without, it loses every route and has each back ~3 s after the start.
##   TestHoldNewPeersOnTheWire: a restarted bgpd's configuration paused after the family's
##   activate, as a busy node pauses: held (what the applier sends) the ToR keeps the route; not
##   held the ToR flushes it.
## - internal/vtysh TestClient/*/context and bgpd_killed: a bgpd whose vty socket accepts and never
##   answers (SIGSTOP: the call times out, the connection is dropped) and a killed bgpd.
## - internal/vtysh TestApplierErrors: a line bgpd refuses, repeated: named (password masked),
##   retried with backoff and a read-back, only that line sent again; bgpd down; no run directory.
## - internal/vtysh TestApplierRunNoFRR, TestBackoff: no bgpd (backoff; applies as soon as its
##   socket appears); TestApplierDrift: configuration changed behind frr-renderer's back, repaired;
##   TestApplierCoalesces: 1,000 submits in a tight loop, a handful of applies, the last wins.
## - internal/vtysh TestApplierStateFileUnwritable: the state file's disk full or read-only (a
##   4 KiB tmpfs in a private mount namespace): bgpd gets the configuration all the same, the
##   apply check fails, Run retries the write and, the disk mended, writes it: a restarted
##   frr-renderer still deletes what it rendered meanwhile.
## - internal/reconcile TestRunBadEdit (a manifest broken mid-edit: the last good configuration
##   kept, one error logged; a deleted file withdraws), TestRunFailedInstanceKeepsConfiguration,
##   TestRunBurst (1,000 writes in a second), TestRunApplierStops (the applier dies: Run says so),
##   TestRunStorm (10,000 writes in 20 s: coalesced, the last address submitted and no other,
##   heap and goroutines back where they were).
## - cmd/frr-renderer TestRunOnFRR (FRR keeps its configuration when the loop stops),
##   TestRunServesHealth (/readyz says why it is not ready: no bgpd).
## - test/e2e TestSidecar: a sidecar restart withdraws nothing and sends nothing, the API server
##   down and a Service created after (the watch resumes, nothing withdrawn meanwhile), a
##   missing PeerConfig (an Event; the other peer unaffected). TestSidecarAPIServerOutage (only
##   here, E2E_API_OUTAGE=65s, ~3 min): the API server down for over a minute while a Service is
##   created and another deleted through a second API server on the same etcd; the ToR loses
##   nothing, /readyz stays 200, frr_renderer_kube_watch_errors_total grows; once it is back
##   both changes reach the ToR (~45 s later: client-go's jittered watch backoff).
## - test/latency BenchmarkBurst: renames of a manifest in a burst; the ToR ends exactly at the
##   last state, the applies counted.
## - test/deploy TestSeedCluster, its step alone (the cluster set up, ~1.5 min): bgpd logs a refused
##   password line in a real pod; `kubectl logs -c frr` shows it masked, never the secret.
## The containerlab lab (a link down, a bgpd kill; `make clab-test`) and the kubelet cluster (a
## deleted pod, a rolling upgrade, the masked log; `make deploy-test`) have their fault steps in
## `make test`.
.PHONY: faults
faults: deps kube-binaries
	$(GO) test -race -count=1 -run '^(TestApplierOnTheWire|TestApplierZebraAndBgpdKilled|TestHoldNewPeersOnTheWire|TestApplierErrors|TestApplierRunNoFRR|TestBackoff|TestApplierDrift|TestApplierCoalesces|TestApplierStateFileUnwritable)$$' ./internal/vtysh/
	$(GO) test -race -count=1 -run '^TestClient$$//^(context|bgpd_killed)$$' ./internal/vtysh/
	$(GO) test -race -count=1 -run '^(TestRunBadEdit|TestRunFailedInstanceKeepsConfiguration|TestRunBurst|TestRunApplierStops|TestRunStorm)$$' ./internal/reconcile/
	$(GO) test -race -count=1 -run '^(TestRunOnFRR|TestRunServesHealth)$$' ./cmd/frr-renderer/
	$(GO) test -race -count=1 -timeout 20m -run '^TestSidecar$$' ./test/e2e/
	E2E_API_OUTAGE=65s $(GO) test -race -count=1 -timeout 10m -run '^TestSidecarAPIServerOutage$$' ./test/e2e/
	$(GO) test -count=1 -run '^$$' -bench '^BenchmarkBurst$$' -benchtime 1x ./test/latency/
	$(GO) test -count=1 -timeout 30m -run '^TestSeedCluster$$/^a_password_bgpd_logs_is_masked' ./test/deploy/

## clab-test: the seed's containerlab lab (test/containerlab), deployed, checked from the ToR and
## from a client that curls the LoadBalancer IP, destroyed. Part of `make test`.
.PHONY: clab-test clab-deploy clab-destroy
clab-test: deps
	$(GO) test -count=1 -v -timeout 30m ./test/containerlab/

## clab-deploy: the same lab to try by hand, in $(CLAB_DIR) (see test/containerlab/README.md);
## clab-destroy removes it.
CLAB_DIR ?= /tmp/frr-renderer-clab
clab-deploy: deps
	FRR_RENDERER_CACHE=$(CACHE) GO=$(GO) ./hack/clab.sh up $(CLAB_DIR)
	@echo; echo "Lab deployed in $(CLAB_DIR); edit $(CLAB_DIR)/manifests/*.yaml and watch the ToR:"; \
	echo "  eval \$$(./hack/clab.sh env); docker exec clab-frr-renderer-seed-tor vtysh -c 'show bgp ipv4 unicast'"
clab-destroy:
	FRR_RENDERER_CACHE=$(CACHE) GO=$(GO) ./hack/clab.sh down $(CLAB_DIR)

## unit: the tests that need neither root nor FRR.
unit:
	FRR_RENDERER_NO_FRR=1 $(GO) test -count=1 ./...

lint: $(STATICCHECK)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

deps:
	./hack/install-deps.sh
	FRR_RENDERER_CACHE=$(CACHE) ./hack/frr10-rootfs.sh >/dev/null

$(STATICCHECK):
	mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2
	mv $(TOOLS)/staticcheck $@

## bench: translate+render at 100..10,000 Services x 64 peers, one Service's change whole and
## incremental at 1,000..100,000, the watched manifests read at 10,000 and 100,000, FRR 8.4/10.3 load times, the applier, edit -> ToR latency
## (manifests and the API), one Service edit among 10,000 (issue 11: frr-renderer beside FRR's
## floor, vtysh -c and frr-reload.py, with the stages; both modes; the start again with graceful
## restart off), the sidecar at 10,000 and 100,000 Services.
bench: deps
	$(GO) test -run '^$$' -bench 'BenchmarkTranslateRender' -benchmem -benchtime 50x ./test/scale/
	$(GO) test -run '^$$' -bench 'BenchmarkChange' -benchtime 20x ./test/scale/
	$(GO) test -run '^$$' -bench 'BenchmarkManifestsLoad' -benchtime 3x ./internal/filewatch/
	$(GO) test -run '^$$' -bench 'BenchmarkFRRLoad' -benchmem -benchtime 3x ./test/scale/
	$(GO) test -run '^$$' -bench 'BenchmarkExec|BenchmarkConfigure1Line' -benchmem -benchtime 200x ./internal/vtysh/
	$(GO) test -run '^$$' -bench 'BenchmarkApply1PrefixChange|BenchmarkReadBack' -benchtime 20x ./internal/vtysh/
	$(GO) test -run '^$$' -bench 'BenchmarkApplyInitial' -benchtime 3x ./internal/vtysh/
	$(GO) test -run '^$$' -bench 'BenchmarkSessions|BenchmarkParseSessions' -benchtime 500x ./internal/vtysh/
	$(GO) test -run '^$$' -bench 'ManifestToToR' -benchtime 100x ./test/latency/
	$(GO) test -run '^$$' -bench 'Burst' -benchtime 1x ./test/latency/
	$(GO) test -run '^$$' -bench 'ScaleEdit' -benchtime 10x -timeout 30m ./test/latency/
	LATENCY_GRACEFUL_RESTART=off LATENCY_NO_RELOAD=1 $(GO) test -run '^$$' -bench 'ScaleEdit' -benchtime 3x -timeout 30m ./test/latency/
	$(MAKE) --no-print-directory kube-binaries >/dev/null
	$(GO) test -run '^$$' -bench 'ServiceToToR' -benchtime 100x ./test/e2e/
	E2E_FRR=8 $(GO) test -run '^$$' -bench 'ServiceEditScale' -benchtime 10x -timeout 30m ./test/e2e/
	$(GO) test -run '^$$' -bench 'ServiceEditScale' -benchtime 10x -timeout 30m ./test/e2e/
	E2E_GRACEFUL_RESTART=off $(GO) test -run '^$$' -bench 'ServiceEditScale' -benchtime 3x -timeout 30m ./test/e2e/
	$(GO) test -run '^$$' -bench 'SidecarScale' -benchtime 1x -timeout 30m ./test/e2e/
	E2E_SERVICES=100000 $(GO) test -run '^$$' -bench 'SidecarScale' -benchtime 1x -timeout 30m ./test/e2e/

## fuzz: short runs of every fuzz target. A new input is minimized for at most 1 s: the default
## (60 s) on inputs of several KB spends the whole run minimizing, not fuzzing.
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1s ./internal/manifest/
	$(GO) test -run '^$$' -fuzz '^FuzzBlockYAML$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1s ./internal/manifest/
	$(GO) test -run '^$$' -fuzz '^FuzzTranslate$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1s ./internal/translate/
	$(GO) test -run '^$$' -fuzz '^FuzzRender$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1s ./internal/frrconfig/
	$(GO) test -run '^$$' -fuzz '^FuzzPipeline$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1s ./test/golden/
	$(GO) test -run '^$$' -fuzz '^FuzzDelta$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1s ./internal/frrconfig/
	$(GO) test -run '^$$' -fuzz '^FuzzParseSessions$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1s ./internal/vtysh/

## golden-update: rewrite the expected outputs of test/golden/testdata and of the operator
## commands (cmd/frr-renderer/testdata; the FRR ones need root) after a deliberate change.
golden-update:
	$(GO) test ./test/golden -run TestGolden -update
	$(GO) test ./cmd/frr-renderer -run 'Output|FromNodeConfigs|DiffAgainst|OnFRR' -update

clean:
	rm -rf bin
