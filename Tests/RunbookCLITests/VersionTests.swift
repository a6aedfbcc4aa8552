import Foundation
import Testing

/// `runbook --version` names the commit the binary was built from, which the BuildCommit
/// plugin writes through `Scripts/build-commit` whenever HEAD moves or a source changes.
@Suite struct VersionTests {
  /// What `Scripts/build-commit PACKAGE FILE` writes for `package`: the source text of
  /// `buildCommit`'s value (`"47949db"`, `nil`), or nil when the file has no such line.
  static func generatedCommit(for package: URL) throws -> String? {
    let output = FileManager.default.temporaryDirectory
      .appendingPathComponent("build-commit-\(UUID().uuidString).swift")
    defer { try? FileManager.default.removeItem(at: output) }
    let (status, printed) = try CLI.program(
      "/bin/sh",
      [
        CLI.packageRoot.appendingPathComponent("Scripts/build-commit").path,
        package.path, output.path,
      ])
    #expect(status == 0, "\(printed)")
    let text = try String(contentsOf: output, encoding: .utf8)
    let line = text.split(separator: "\n").first { $0.hasPrefix("let buildCommit") }
    return line.map { String($0.split(separator: "= ", maxSplits: 1).last ?? "") }
  }

  static func git(_ arguments: [String], in directory: URL) throws {
    let (status, printed) = try CLI.program(
      "/usr/bin/env",
      ["git", "-c", "user.name=test", "-c", "user.email=test@example.com"] + arguments,
      in: directory)
    #expect(status == 0, "git \(arguments): \(printed)")
  }

  @Test func versionNamesTheCommitOfTheBuild() throws {
    let result = try CLI.run(["--version"])
    #expect(result.status == 0)
    let version = result.stdout.trimmingCharacters(in: .newlines)
    #expect(
      version.wholeMatch(of: /\d+\.\d+\.\d+ \((commit [0-9a-f]{7,}(-dirty)?|unknown commit)\)/)
        != nil, "\(version)")
    // Built from a git work tree (a clone, not an archive of one): the hash is HEAD's.
    let dotGit = CLI.packageRoot.appendingPathComponent(".git").path
    if FileManager.default.fileExists(atPath: dotGit) {
      let (status, head) = try CLI.program(
        "/usr/bin/env", ["git", "rev-parse", "--short", "HEAD"])
      let hash = head.trimmingCharacters(in: .whitespacesAndNewlines)
      #expect(status == 0 && version.contains("(commit \(hash)"), "\(version), HEAD is \(hash)")
    }
  }

  @Test func buildCommitIsTheShortHashWithDirtyForChanges() throws {
    let repository = FileManager.default.temporaryDirectory
      .appendingPathComponent("build-commit-repo-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: repository, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: repository) }
    #expect(try Self.generatedCommit(for: repository) == "nil")

    try Self.git(["init", "-q"], in: repository)
    try "one\n".write(
      to: repository.appendingPathComponent("file"), atomically: true, encoding: .utf8)
    try Self.git(["add", "file"], in: repository)
    try Self.git(["commit", "-q", "-m", "one"], in: repository)
    let (_, head) = try CLI.program(
      "/usr/bin/env", ["git", "rev-parse", "--short", "HEAD"], in: repository)
    let hash = head.trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(try Self.generatedCommit(for: repository) == "\"\(hash)\"")

    try "two\n".write(
      to: repository.appendingPathComponent("file"), atomically: true, encoding: .utf8)
    #expect(try Self.generatedCommit(for: repository) == "\"\(hash)-dirty\"")

    // Sources unpacked inside some other repository are not that repository's commit.
    let unpacked = repository.appendingPathComponent("unpacked")
    try FileManager.default.createDirectory(at: unpacked, withIntermediateDirectories: true)
    #expect(try Self.generatedCommit(for: unpacked) == "nil")
  }
}
