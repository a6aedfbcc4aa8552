import Foundation
import PackagePlugin

/// Gives the target it is applied to a generated `EmbeddedScripts` enum: the text of each
/// file in the target's `Scripts` folder (the session loop, the exported Python files), so
/// the programs stay files their own tools can check and the binary still carries them.
///
/// A build command whose inputs are the script files and the generator, so editing a script
/// builds again. A file added to the folder is seen when SwiftPM plans the build again
/// (Package.swift changed, or a source file added or removed). The command runs `/bin/sh`
/// on `Scripts/embed-scripts`, which rewrites the output only when its text changes.
@main
struct EmbedScripts: BuildToolPlugin {
  /// The command that writes `EmbeddedScripts.swift` for `target`.
  func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
    let package = context.package.directoryURL
    let generator = package.appending(path: "Scripts/embed-scripts")
    // The target's folder where SwiftPM looks for it (Target.directoryURL needs tools 6.1).
    let folder = package.appending(path: "Sources/\(target.name)/Scripts")
    let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedScripts.swift")
    // Sorted: the generated file must not change with the order the directory lists.
    let scripts = try FileManager.default.contentsOfDirectory(atPath: folder.path)
      .filter { !$0.hasPrefix(".") }.sorted().map { folder.appending(path: $0) }
    return [
      .buildCommand(
        displayName: "Embedding the scripts of \(target.name)",
        executable: URL(fileURLWithPath: "/bin/sh"),
        arguments: [generator.path, output.path] + scripts.map(\.path),
        environment: ProcessInfo.processInfo.environment.filter { $0.key == "PATH" },
        inputFiles: [generator] + scripts,
        outputFiles: [output]
      )
    ]
  }
}
