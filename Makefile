# token-operator. `make help` lists the targets.

# Tools are pinned and installed into ./bin from the Go module proxy.
CONTROLLER_TOOLS_VERSION ?= v0.23.0
KUSTOMIZE_VERSION ?= v5.8.2
GOTESTSUM_VERSION ?= v1.13.0
HELM_VERSION ?= v3.22.0
CRD_REF_DOCS_VERSION ?= v0.3.0
LOCALBIN ?= $(CURDIR)/bin
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen-$(CONTROLLER_TOOLS_VERSION)
KUSTOMIZE ?= $(LOCALBIN)/kustomize-$(KUSTOMIZE_VERSION)
GOTESTSUM ?= $(LOCALBIN)/gotestsum-$(GOTESTSUM_VERSION)
HELM ?= $(LOCALBIN)/helm-$(HELM_VERSION)
CRD_REF_DOCS ?= $(LOCALBIN)/crd-ref-docs-$(CRD_REF_DOCS_VERSION)

IMG ?= token-operator:dev
# The operator's namespace when `make run` runs it against a cluster.
RUN_NAMESPACE ?= token-operator-system
VERSION ?= dev
# The OCI image archive `make image` writes, and the platforms it holds.
IMAGE_ARCHIVE ?= $(LOCALBIN)/token-operator-image.tar
IMAGE_PLATFORMS ?= linux/amd64 linux/arm64
GO_TEST_FLAGS ?=

SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  %-18s %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate the CRDs and RBAC under config/, the chart's copies of them, and the Argo CD argocd-cm patch.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./..." output:crd:artifacts:config=config/crd/bases
	hack/sync-chart.sh
	hack/argocd-cm.sh

.PHONY: api-docs
api-docs: $(CRD_REF_DOCS) ## Generate the API reference, docs/api.md, from the Go types.
	$(CRD_REF_DOCS) --source-path=api/v1alpha1 --config=hack/api-docs/config.yaml --renderer=markdown \
		--output-path=docs/api.md >/dev/null

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate the DeepCopy methods of the API types.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./..."

.PHONY: verify
verify: manifests generate api-docs fmt helm-lint ## Fail when generated, formatted or tidied files differ from what is committed.
	go mod tidy
	cd hack/image && go mod tidy
	cd test/promql && go mod tidy
	@if [ -n "$$(git status --porcelain)" ]; then \
		echo "generated files are out of date: run 'make manifests generate api-docs fmt && go mod tidy' and commit the result"; \
		git status --porcelain; git --no-pager diff --stat; exit 1; \
	fi

.PHONY: fmt
fmt: ## Run go fmt.
	go fmt ./...
	cd hack/image && go fmt ./...
	cd test/promql && go fmt ./...

.PHONY: vet
vet: ## Run go vet.
	go vet ./...
	cd hack/image && go vet ./...
	cd test/promql && ../../hack/retry.sh go mod download && go vet ./...

.PHONY: envtest
envtest: ## Build (once, then cached) the kube-apiserver, etcd and kubectl that tests run.
	@hack/install-envtest-assets.sh >/dev/null

# gotestsum prints a line per package and the output of failed tests only (with the
# manager's and test servers' log lines of that test), then ends with the list of
# failed tests.
.PHONY: test
test: manifests generate fmt vet envtest image helm-lint $(GOTESTSUM) ## Run every test against a real kube-apiserver and etcd.
	KUBEBUILDER_ASSETS="$$(hack/install-envtest-assets.sh)" HELM="$(HELM)" IMAGE_ARCHIVE="$(IMAGE_ARCHIVE)" $(GOTESTSUM) --format pkgname-and-test-fails --format-hide-empty-pkg --hide-summary=output -- ./... $(GO_TEST_FLAGS)
	cd test/promql && $(GOTESTSUM) --format pkgname-and-test-fails --hide-summary=output -- ./... $(GO_TEST_FLAGS)

# Needs root: it runs a real single-node cluster in a network namespace of its own
# (hack/e2e.sh), and restores the host after.
.PHONY: e2e
e2e: image $(HELM) ## Run the end-to-end tests: the chart installed on a real single-node cluster, with real pods consuming tokens.
	HELM="$(HELM)" IMAGE_ARCHIVE="$(IMAGE_ARCHIVE)" IMG="$(IMG)" hack/e2e.sh

.PHONY: bench
bench: ## Run the benchmarks (offline DeviceHive minting beside raw HMAC-SHA256; a metrics scrape of 10,000 tokens).
	go test ./internal/devicehive/ ./internal/metrics/ -run '^$$' -bench . -benchmem -count=3

# N tokens (default 1000), after UNRELATED_SECRETS Secrets the operator does not
# own; MANAGER_ARGS adds operator flags; PROFILE=file takes a CPU profile.
.PHONY: bench-scale
bench-scale: envtest ## Measure the operator at scale: N PersonalTokens to Ready against a bare client's pace, API writes per token, idle work, peak memory (N, UNRELATED_SECRETS, SHARDS; RUNS for the median of several).
	KUBEBUILDER_ASSETS="$$(hack/install-envtest-assets.sh)" go run ./test/scale/bench

##@ Build and run

.PHONY: build
build: manifests generate fmt vet plugin ## Build the manager binary into bin/manager, and the kubectl plugin.
	go build -o $(LOCALBIN)/manager .

.PHONY: plugin
plugin: ## Build the kubectl plugin into bin/kubectl-token (`kubectl token` once on your PATH).
	go build -o $(LOCALBIN)/kubectl-token ./cmd/kubectl-token

.PHONY: run
run: manifests generate fmt vet envtest ## Run the operator here: against your kubeconfig's cluster if one answers, else a local playground.
	@assets="$$(hack/install-envtest-assets.sh)"; \
	if "$$assets/kubectl" get --raw=/readyz --request-timeout=3s >/dev/null 2>&1; then \
		echo "Running against the cluster of your kubeconfig ($$("$$assets/kubectl" config current-context)); install the CRDs first with 'make install'."; \
		echo "Leader election stays on (a Lease in namespace $(RUN_NAMESPACE)), so this process and an operator in the cluster never both reconcile."; \
		"$$assets/kubectl" create namespace $(RUN_NAMESPACE) --dry-run=client -o yaml | "$$assets/kubectl" apply -f - >/dev/null; \
		go run . --operator-namespace=$(RUN_NAMESPACE); \
	else \
		echo "No cluster answers: starting the local playground."; \
		KUBEBUILDER_ASSETS="$$assets" go run ./hack/playground; \
	fi

.PHONY: image
image: ## Build the manager's OCI image archive (bin/token-operator-image.tar) for IMAGE_PLATFORMS, without a Docker engine.
	@mkdir -p $(LOCALBIN)/image
	@for p in $(IMAGE_PLATFORMS); do \
		CGO_ENABLED=0 GOOS=$${p%/*} GOARCH=$${p#*/} go build -trimpath -ldflags=-buildid= -o $(LOCALBIN)/image/manager-$${p%/*}-$${p#*/} . ; \
	done
	cd hack/image && ../retry.sh go mod download && go run . -o $(IMAGE_ARCHIVE) -ref $(IMG) -version $(VERSION) \
		$(foreach p,$(IMAGE_PLATFORMS),$(p)=$(LOCALBIN)/image/manager-$(subst /,-,$(p)))

.PHONY: helm-lint
helm-lint: $(HELM) ## Lint the Helm chart.
	$(HELM) lint --strict charts/token-operator >/dev/null

.PHONY: docker-build
docker-build: ## Build the container image with a Docker engine (`make image` needs none).
	docker build -t $(IMG) .

##@ Deployment

.PHONY: install
install: manifests $(KUSTOMIZE) ## Install the CRDs into the cluster of the current kubeconfig.
	$(KUSTOMIZE) build config/crd | kubectl apply --server-side -f -

.PHONY: uninstall
uninstall: manifests $(KUSTOMIZE) ## Remove the CRDs (and every token object) from the cluster.
	$(KUSTOMIZE) build config/crd | kubectl delete --ignore-not-found -f -

.PHONY: deploy
deploy: manifests $(KUSTOMIZE) ## Deploy the operator (image $(IMG)) to the cluster of the current kubeconfig.
	cd config/manager && $(KUSTOMIZE) edit set image controller=$(IMG)
	$(KUSTOMIZE) build config/default | kubectl apply --server-side -f -

.PHONY: undeploy
undeploy: $(KUSTOMIZE) ## Remove the operator from the cluster.
	$(KUSTOMIZE) build config/default | kubectl delete --ignore-not-found -f -

##@ Tools

$(LOCALBIN):
	mkdir -p $(LOCALBIN)

$(CONTROLLER_GEN): | $(LOCALBIN)
	GOBIN=$(LOCALBIN) hack/retry.sh go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)
	mv $(LOCALBIN)/controller-gen $@

$(KUSTOMIZE): | $(LOCALBIN)
	GOBIN=$(LOCALBIN) hack/retry.sh go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)
	mv $(LOCALBIN)/kustomize $@

$(HELM): | $(LOCALBIN)
	GOBIN=$(LOCALBIN) hack/retry.sh go install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)
	mv $(LOCALBIN)/helm $@

$(CRD_REF_DOCS): | $(LOCALBIN)
	GOBIN=$(LOCALBIN) hack/retry.sh go install github.com/elastic/crd-ref-docs@$(CRD_REF_DOCS_VERSION)
	mv $(LOCALBIN)/crd-ref-docs $@

$(GOTESTSUM): | $(LOCALBIN)
	GOBIN=$(LOCALBIN) hack/retry.sh go install gotest.tools/gotestsum@$(GOTESTSUM_VERSION)
	mv $(LOCALBIN)/gotestsum $@
