#!/usr/bin/env bash
# Regenerates the Swift code of the protos under Protos/ into
# Sources/SessionStoreGRPC/Generated/ and records the protos' checksums there
# (Protos.sha256), which a test compares with the protos in the tree.
#
# Needs protoc, from PyPI's grpcio-tools (`python3 -m pip install grpcio-tools`), and
# builds the two protoc plugins from this package's own dependencies (swift-protobuf's
# protoc-gen-swift and grpc-swift-protobuf's protoc-gen-grpc-swift-2) in .build-protoc/;
# the first build takes about ten minutes.
#
#   bash Protos/generate.sh
set -euo pipefail
cd "$(dirname "$0")/.."

out=Sources/SessionStoreGRPC/Generated
scratch=.build-protoc
protos=(sessionstore/v1/sessionstore.proto grpc/health/v1/health.proto)

# PLUGIN_BIN: a folder that already holds both plugins (skips building them).
if [[ -n "${PLUGIN_BIN:-}" ]]; then
    bin=$PLUGIN_BIN
else
    swift build -c release --scratch-path "$scratch" --product protoc-gen-swift
    swift build -c release --scratch-path "$scratch" --product protoc-gen-grpc-swift-2
    bin=$(swift build -c release --scratch-path "$scratch" --show-bin-path)
fi

wkt=$(python3 -c 'import grpc_tools, os; print(os.path.join(os.path.dirname(grpc_tools.__file__), "_proto"))')
rm -f "$out"/*.swift
python3 -m grpc_tools.protoc \
    --plugin=protoc-gen-swift="$bin/protoc-gen-swift" \
    --plugin=protoc-gen-grpc-swift="$bin/protoc-gen-grpc-swift-2" \
    -I Protos -I "$wkt" \
    --swift_out="$out" --swift_opt=Visibility=Public,FileNaming=PathToUnderscores \
    --grpc-swift_out="$out" --grpc-swift_opt=Visibility=Public,FileNaming=PathToUnderscores \
    "${protos[@]}"
(cd Protos && sha256sum "${protos[@]}") > "$out/Protos.sha256"
echo "generated into $out:"
ls "$out"
