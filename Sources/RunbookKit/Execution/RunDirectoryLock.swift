import Foundation

/// A problem with a run directory that the operator must fix (exit status 2).
public struct RunDirectoryError: Error, CustomStringConvertible, Sendable {
  /// What is wrong and what to do.
  public var description: String
  /// Creates an error.
  public init(_ description: String) { self.description = description }
}

/// The one writer of a run directory: an exclusive `flock` on the directory itself, held
/// from before the first record until the reports are written. A second `exec`, `--resume`
/// or `report` on the same directory is refused while it is held, and the lock ends with the
/// process that holds it, however that process ends. Locking the directory, not a file in
/// it, leaves no file behind that the journal does not account for.
public final class RunDirectoryLock: Sendable {
  /// The lock file of run directories written before the directory itself was locked.
  public static let legacyFileName = "run.lock"
  private let descriptor: Int32

  private init(descriptor: Int32) { self.descriptor = descriptor }

  deinit { close(descriptor) }

  /// Takes the lock of `directory` (made private, 0700, if it is new).
  public static func acquire(_ directory: String) throws -> RunDirectoryLock {
    try makePrivateDirectory(directory)
    let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else {
      throw RunDirectoryError("cannot open \(directory): \(String(cString: strerror(errno)))")
    }
    guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
      close(fd)
      throw RunDirectoryError(
        "\(directory) is in use by another runbook process; wait for it to end, or choose another --report-dir"
      )
    }
    return RunDirectoryLock(descriptor: fd)
  }

  /// Creates `directory` (and its parents) for the operator only; an existing one is made
  /// 0700. A path that is a file is refused with a message, not a Foundation error.
  public static func makePrivateDirectory(_ directory: String) throws {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
      guard isDirectory.boolValue else {
        throw RunDirectoryError(
          "\(directory) is a file, not a directory; choose another --report-dir")
      }
    } else {
      do {
        try FileManager.default.createDirectory(
          atPath: directory, withIntermediateDirectories: true,
          attributes: [.posixPermissions: 0o700])
      } catch {
        throw RunDirectoryError("cannot create \(directory): \(error.localizedDescription)")
      }
    }
    guard chmod(directory, 0o700) == 0 else {
      throw RunDirectoryError(
        "cannot make \(directory) private: \(String(cString: strerror(errno)))")
    }
  }

  /// Takes the lock of the run directory of `exec`: a new run's (missing or empty) or, with
  /// `resume`, the directory of an earlier run of `runbook`; checked once the lock is held,
  /// so no other writer can change the answer.
  public static func forRun(_ directory: String, resume: Bool, runbook: String) throws
    -> RunDirectoryLock
  {
    if resume, !FileManager.default.fileExists(atPath: directory) {
      throw RunDirectoryError("--resume \(directory): no such run directory")
    }
    let lock = try acquire(directory)
    try checkUse(directory, resume: resume, runbook: runbook)
    return lock
  }

  private static func checkUse(_ directory: String, resume: Bool, runbook: String) throws {
    let fm = FileManager.default
    let entries = (try? fm.contentsOfDirectory(atPath: directory))
    if !resume {
      if let entries, !entries.isEmpty {
        throw RunDirectoryError(
          "\(directory) already holds a run; continue it with --resume \(directory), or choose another --report-dir"
        )
      }
      return
    }
    guard let run = Journal.readRunRecord(path: directory + "/journal.jsonl") else {
      throw RunDirectoryError(
        "--resume \(directory): not a run directory (no journal with a run record)")
    }
    func absolute(_ path: String) -> String {
      URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }
    if absolute(run.runbook) != absolute(runbook) {
      throw RunDirectoryError(
        "--resume \(directory): that run is of \(run.runbook), not \(runbook); resume it with the same runbook file (an edited version of it is fine)"
      )
    }
  }
}
