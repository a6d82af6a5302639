// swift-tools-version:6.2
import PackageDescription

/// `FilePath` for Subprocess: from swift-system here, from the SDK's System on Apple platforms.
let systemPackage: Target.Dependency = .product(
    name: "SystemPackage", package: "swift-system", condition: .when(platforms: [.linux]))

let package = Package(
    name: "SessionStore",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "SessionStore", targets: ["SessionStore"]),
        .library(name: "SessionStoreCore", targets: ["SessionStoreCore"]),
        .library(name: "SessionStoreSQLite", targets: ["SessionStoreSQLite"]),
        .library(name: "SessionStorePostgres", targets: ["SessionStorePostgres"]),
        .library(name: "SessionStoreGRPC", targets: ["SessionStoreGRPC"]),
        .library(name: "SessionStoreWeb", targets: ["SessionStoreWeb"]),
        .executable(name: "sessionctl", targets: ["sessionctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        // The service layer: public API, validation, limits, the status machine, expiry,
        // events, the sweeper and recovery, over the storage seam (`StorageBackend`). It
        // imports no storage module.
        .target(
            name: "SessionStoreCore",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The SQLite backend: connections, the writer and reader threads, group commit,
        // the checkpointer, change detection, migrations and the SQL of every table.
        .target(
            name: "SessionStoreSQLite",
            dependencies: ["CSQLite", "SessionStoreCore"],
            plugins: ["EmbedMigrations"]
        ),
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // The PostgreSQL backend: libpq connections on threads of their own, the SQL of
        // every table for PostgreSQL, and the migrations of `Migrations/postgres/`.
        .target(
            name: "SessionStorePostgres",
            dependencies: ["CLibPQ", "SessionStoreCore"],
            plugins: ["EmbedMigrations"]
        ),
        .executableTarget(name: "MigrationEmbedder"),
        .plugin(
            name: "EmbedMigrations",
            capability: .buildTool(),
            dependencies: ["MigrationEmbedder"]
        ),
        // What services import: the service layer with SQLite as its embedded default.
        .target(
            name: "SessionStore",
            dependencies: ["SessionStoreCore", "SessionStoreSQLite"]
        ),
        .target(
            name: "SessionStoreGRPC",
            dependencies: [
                "SessionStoreCore",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            exclude: ["Generated/Protos.sha256"]
        ),
        // The operator's web view: server-rendered pages, Server-Sent Events from one shared
        // follower, /metrics and /healthz, as Hummingbird routes a service mounts.
        .target(
            name: "SessionStoreWeb",
            dependencies: [
                "SessionStoreCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "sessionctl",
            dependencies: [
                "SessionStore",
                "SessionStoreWeb",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                "SessionStoreSQLite",
                "SessionStorePostgres",
                "SessionStoreGRPC",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                systemPackage,
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        .testTarget(
            name: "SessionStoreSQLiteTests",
            dependencies: ["SessionStoreSQLite", "SessionStoreCore"]
        ),
        .testTarget(
            name: "SessionStoreTests",
            dependencies: [
                "SessionStore", "SessionStoreCore", "SessionStoreSQLite", "SessionStorePostgres", "SessionStoreGRPC",
                "SessionStoreWeb",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                systemPackage,
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
