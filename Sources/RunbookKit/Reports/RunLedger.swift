import Foundation

/// The operator's own record of how far each run's journal went: a digest chain proves that
/// no record was changed, but not that none was cut off its end (a failed step's record and
/// log removed, and the run made to look as if it stopped before). `exec` and `report`
/// append the journal's final digest here, outside the run directory
/// (`$XDG_STATE_HOME/runbook/ledger`, else `~/.local/state/runbook/ledger`, 0600), and
/// `verify` requires every digest the ledger holds for a run to be in its journal.
public enum RunLedger {
  /// The ledger file, beside the run keys.
  public static var path: String {
    (RunKey.directory as NSString).deletingLastPathComponent + "/ledger"
  }

  /// Appends the final digest of the journal in `directory` (a line: the digest, then the
  /// run directory's real path).
  public static func record(directory: String) throws {
    let digest = try Journal.finalDigest(path: directory + "/journal.jsonl")
    let folder = (path as NSString).deletingLastPathComponent
    try PrivateFile.makeDirectory(folder)
    let fd = PrivateFile.open(path, O_WRONLY | O_CREAT | O_APPEND)
    guard fd >= 0 else {
      throw RunDirectoryError("cannot write \(path): \(String(cString: strerror(errno)))")
    }
    defer { close(fd) }
    guard Descriptor.writeAll(Array("\(digest) \(realPath(directory))\n".utf8), to: fd) else {
      throw RunDirectoryError("cannot write \(path): \(String(cString: strerror(errno)))")
    }
  }

  /// The digests the ledger holds for the run in `directory`, oldest first.
  static func digests(directory: String) -> [String] {
    guard let data = FileManager.default.contents(atPath: path) else { return [] }
    let target = realPath(directory)
    return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { line in
      let fields = line.split(separator: " ", maxSplits: 1)
      guard fields.count == 2, String(fields[1]) == target else { return nil }
      return String(fields[0])
    }
  }

  /// Why the journal in `directory` is shorter than the ledger says it was, or nil.
  static func problem(directory: String, journalDigests: Set<String>) -> String? {
    guard let missing = digests(directory: directory).last(where: { !journalDigests.contains($0) })
    else { return nil }
    return
      "ends before the record whose digest \(missing.prefix(16))… the ledger \(path) holds for this run: records were cut from its end"
  }

  private static func realPath(_ directory: String) -> String {
    guard let resolved = realpath(directory, nil) else { return directory }
    defer { free(resolved) }
    return String(cString: resolved)
  }
}
