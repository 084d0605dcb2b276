# The two commands of the README, and a few helpers.
CARGO ?= cargo

.PHONY: demo test deps fmt lint doc bench deb

## make demo: the whole mechanism on a throw-away hall, simulated devices.
demo:
	@packaging/deps.sh build-packages.txt
	$(CARGO) run --quiet -- demo

## make test: install test dependencies, then format check, lints, docs, all tests,
## and the package test (builds the .deb from the debug build and checks it).
test: deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps --quiet
	$(CARGO) test --workspace
	packaging/check-deb.sh

## make deb: the kiosk package, release build: target/debian/greenwave_<version>-1_<arch>.deb
## (md5sums added by packaging/finish-deb.sh, then checked by lintian).
deb: deps
	$(CARGO) build --release --bin greenwave
	packaging/deb-assets.sh target/release/greenwave
	deb=$$($(CARGO) deb --no-build) && packaging/finish-deb.sh "$$deb" && \
		lintian --fail-on error,warning --no-tag-display-limit "$$deb" && echo "$$deb"

deps:
	@packaging/deps.sh

fmt:
	$(CARGO) fmt --all

## make bench: the benches (figures go to BENCHMARKS.md; each names its command there).
bench:
	$(CARGO) bench --bench queue
	$(CARGO) bench --bench stats
	$(CARGO) bench --bench board
	$(CARGO) bench --bench hall
