// swift-tools-version: 6.0
import PackageDescription

let package = Package(
  name: "runbook",
  platforms: [.macOS(.v13)],
  products: [
    .executable(name: "runbook", targets: ["runbook"]),
    .library(name: "RunbookKit", targets: ["RunbookKit"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.0"),
    .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
  ],
  targets: [
    .systemLibrary(
      name: "CCmark",
      pkgConfig: "libcmark",
      providers: [.apt(["libcmark-dev"]), .brew(["cmark"])]
    ),
    .target(
      name: "RunbookKit",
      dependencies: [
        "CCmark",
        .product(name: "Yams", package: "Yams"),
        .product(name: "Subprocess", package: "swift-subprocess"),
        .product(name: "Crypto", package: "swift-crypto"),
      ],
      // The programs in Scripts are compiled in by EmbedScripts, not as sources.
      exclude: ["Scripts"],
      plugins: ["EmbedScripts"]
    ),
    .executableTarget(
      name: "runbook",
      dependencies: [
        "RunbookKit",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      plugins: ["BuildCommit"]
    ),
    // Writes the commit the package is built from into the runbook target, for --version.
    .plugin(name: "BuildCommit", capability: .buildTool()),
    // Turns each file in RunbookKit's Scripts folder into a string constant of RunbookKit.
    .plugin(name: "EmbedScripts", capability: .buildTool()),
    .executableTarget(
      name: "runbook-bench",
      dependencies: ["RunbookKit"]
    ),
    // What both test targets share: scripted hosts, a clock without waits, `eventually`.
    .target(
      name: "RunbookTestSupport",
      dependencies: ["RunbookKit"],
      path: "Tests/RunbookTestSupport"
    ),
    .testTarget(
      name: "RunbookKitTests",
      dependencies: ["RunbookKit", "RunbookTestSupport"],
      exclude: ["Fixtures"]
    ),
    .testTarget(
      name: "RunbookCLITests",
      dependencies: ["RunbookKit", "RunbookTestSupport"]
    ),
  ]
)
