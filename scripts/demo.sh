#!/usr/bin/env bash
# Install everything, start a server on the offline defaults, push the bundled sample recording
# through it (transcript shown live), and write the picture, the raw raster and the preview.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
. scripts/venv.sh

port=${VOXPRINT_DEMO_PORT:-50051}
out=voxprint-output
mkdir -p "$out"
voxprint-server --listen "127.0.0.1:$port" --data-dir voxprint-data >"$out/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT

export VOXPRINT_SERVER="127.0.0.1:$port"
python - <<'PY'
import os, sys, time
import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
deadline = time.monotonic() + 60
with grpc.insecure_channel(os.environ["VOXPRINT_SERVER"]) as channel:
    health = health_pb2_grpc.HealthStub(channel)
    while True:
        try:
            if health.Check(health_pb2.HealthCheckRequest(), timeout=1).status == health_pb2.HealthCheckResponse.SERVING:
                break
        except grpc.RpcError:
            if time.monotonic() > deadline:
                sys.exit("the server did not start; see voxprint-output/server.log")
            time.sleep(0.2)
PY

voxprint submit samples/rocket-to-the-moon.wav \
  --png "$out/rocket.png" --raw "$out/rocket.bin" --preview "$out/rocket-preview.png"
echo "Wrote $out/rocket.png (picture), $out/rocket.bin (384-dot LSB-first raster), $out/rocket-preview.png (as printed)."
echo "To run voxprint and voxprint-server yourself: . $VOXPRINT_VENV/bin/activate"
