# token-operator. `make help` lists the targets.

# Tools are pinned and installed into ./bin from the Go module proxy.
CONTROLLER_TOOLS_VERSION ?= v0.23.0
KUSTOMIZE_VERSION ?= v5.8.2
GOTESTSUM_VERSION ?= v1.13.0
LOCALBIN ?= $(CURDIR)/bin
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen-$(CONTROLLER_TOOLS_VERSION)
KUSTOMIZE ?= $(LOCALBIN)/kustomize-$(KUSTOMIZE_VERSION)
GOTESTSUM ?= $(LOCALBIN)/gotestsum-$(GOTESTSUM_VERSION)

IMG ?= token-operator:dev
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
manifests: $(CONTROLLER_GEN) ## Generate the CRDs and RBAC under config/.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./..." output:crd:artifacts:config=config/crd/bases

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate the DeepCopy methods of the API types.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./..."

.PHONY: verify
verify: manifests generate fmt ## Fail when generated, formatted or tidied files differ from what is committed.
	go mod tidy
	@if [ -n "$$(git status --porcelain)" ]; then \
		echo "generated files are out of date: run 'make manifests generate fmt && go mod tidy' and commit the result"; \
		git status --porcelain; git --no-pager diff --stat; exit 1; \
	fi

.PHONY: fmt
fmt: ## Run go fmt.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: envtest
envtest: ## Build (once, then cached) the kube-apiserver, etcd and kubectl that tests run.
	@hack/install-envtest-assets.sh >/dev/null

# gotestsum prints a line per package and the output of failed tests only (with the
# manager's and test servers' log lines of that test), then ends with the list of
# failed tests.
.PHONY: test
test: manifests generate fmt vet envtest $(GOTESTSUM) ## Run every test against a real kube-apiserver and etcd.
	KUBEBUILDER_ASSETS="$$(hack/install-envtest-assets.sh)" $(GOTESTSUM) --format pkgname-and-test-fails --format-hide-empty-pkg --hide-summary=output -- ./... $(GO_TEST_FLAGS)

.PHONY: bench
bench: ## Run the benchmarks (offline DeviceHive minting beside raw HMAC-SHA256).
	go test ./internal/devicehive/ -run '^$$' -bench . -benchmem -count=3

##@ Build and run

.PHONY: build
build: manifests generate fmt vet ## Build the manager binary into bin/manager.
	go build -o $(LOCALBIN)/manager .

.PHONY: run
run: manifests generate fmt vet envtest ## Run the operator here: against your kubeconfig's cluster if one answers, else a local playground.
	@assets="$$(hack/install-envtest-assets.sh)"; \
	if "$$assets/kubectl" get --raw=/readyz --request-timeout=3s >/dev/null 2>&1; then \
		echo "Running against the cluster of your kubeconfig ($$("$$assets/kubectl" config current-context)); install the CRDs first with 'make install'."; \
		go run . --leader-elect=false; \
	else \
		echo "No cluster answers: starting the local playground."; \
		KUBEBUILDER_ASSETS="$$assets" go run ./hack/playground; \
	fi

.PHONY: docker-build
docker-build: ## Build the container image (needs a Docker engine).
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

$(GOTESTSUM): | $(LOCALBIN)
	GOBIN=$(LOCALBIN) hack/retry.sh go install gotest.tools/gotestsum@$(GOTESTSUM_VERSION)
	mv $(LOCALBIN)/gotestsum $@
