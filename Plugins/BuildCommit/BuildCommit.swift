import Foundation
import PackagePlugin

/// Gives the target it is applied to a generated `buildCommit` constant: the commit the
/// package was built from, so `runbook --version` can name it.
///
/// A build command whose inputs are the files git rewrites when HEAD moves (`HEAD`, its
/// reflog, the branch's ref, the index) and the package's sources, so a commit, checkout or
/// reset, or an edit that makes the tree dirty, runs it again. Not a prebuild command:
/// SwiftPM runs those only when it plans the build again (when files are added or removed,
/// or Package.swift changes), so a commit alone would leave the old hash in the binary
/// (swiftlang/swift-package-manager#5476). The command runs `/bin/sh` on
/// `Scripts/build-commit`, which rewrites the file only when its text changes: a rerun at
/// the same commit compiles nothing.
@main
struct BuildCommit: BuildToolPlugin {
  /// The command that writes `BuildCommit.swift` for `target`.
  func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
    let package = context.package.directoryURL
    let script = package.appending(path: "Scripts/build-commit")
    let output = context.pluginWorkDirectoryURL.appending(path: "BuildCommit.swift")
    let sources = context.package.targets.compactMap { $0 as? SourceModuleTarget }
      .flatMap { $0.sourceFiles.map(\.url) }
    return [
      .buildCommand(
        displayName: "Reading the commit of \(package.path)",
        executable: URL(fileURLWithPath: "/bin/sh"),
        arguments: [script.path, package.path, output.path],
        environment: ProcessInfo.processInfo.environment.filter { $0.key == "PATH" },
        inputFiles: [script, package.appending(path: "Package.swift")] + Self.gitFiles(of: package)
          + sources,
        outputFiles: [output]
      )
    ]
  }

  /// The files of the package's own git directory that change when HEAD moves or the index
  /// is written; none when the package is not the top of a work tree. Only files that exist:
  /// a missing input is an error to the build.
  static func gitFiles(of package: URL) -> [URL] {
    let files = FileManager.default
    let dotGit = package.appending(path: ".git")
    var isDirectory: ObjCBool = false
    guard files.fileExists(atPath: dotGit.path, isDirectory: &isDirectory) else { return [] }
    var gitDirectory = dotGit
    if !isDirectory.boolValue {
      // A linked work tree (git worktree add) or a submodule: `.git` is "gitdir: PATH".
      guard let line = try? String(contentsOf: dotGit, encoding: .utf8), line.hasPrefix("gitdir: ")
      else { return [] }
      gitDirectory = Self.resolve(line.dropFirst(8), from: package)
    }
    // A linked work tree keeps its HEAD and index apart and its branches in the main one.
    var common = gitDirectory
    if let line = try? String(
      contentsOf: gitDirectory.appending(path: "commondir"), encoding: .utf8)
    {
      common = Self.resolve(Substring(line), from: gitDirectory)
    }
    var candidates = [
      gitDirectory.appending(path: "HEAD"), gitDirectory.appending(path: "logs/HEAD"),
      gitDirectory.appending(path: "index"), common.appending(path: "packed-refs"),
    ]
    if let head = try? String(contentsOf: gitDirectory.appending(path: "HEAD"), encoding: .utf8),
      head.hasPrefix("ref: ")
    {
      candidates.append(
        common.appending(path: head.dropFirst(5).trimmingCharacters(in: .whitespacesAndNewlines)))
    }
    return candidates.filter { files.fileExists(atPath: $0.path) }
  }

  /// A path git wrote into one of its files, absolute or relative to `directory`.
  static func resolve(_ text: Substring, from directory: URL) -> URL {
    let path = text.trimmingCharacters(in: .whitespacesAndNewlines)
    return path.hasPrefix("/")
      ? URL(fileURLWithPath: path) : directory.appending(path: path).standardizedFileURL
  }
}
