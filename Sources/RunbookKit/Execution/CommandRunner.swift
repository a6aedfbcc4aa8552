import Foundation
import Subprocess

#if canImport(System)
  import System
#else
  import SystemPackage
#endif

/// A program and its arguments, run without a shell.
public struct ProcessCommand: Sendable, Equatable {
  /// The program (a path, or a name looked up on PATH).
  public var executable: String
  /// The arguments.
  public var arguments: [String]

  /// Creates a command.
  public init(_ executable: String, _ arguments: [String]) {
    self.executable = executable
    self.arguments = arguments
  }
}

extension ProcessCommand {
  /// The program as swift-subprocess takes it: a path when it has a `/`, else a name.
  var subprocessExecutable: Executable {
    executable.contains("/") ? .path(FilePath(executable)) : .name(executable)
  }
}

/// How a command ended.
public struct CommandOutcome: Sendable, Equatable {
  /// The exit status, when the program exited.
  public var exitStatus: Int32?
  /// The signal that ended it, when one did.
  public var signal: Int32?
  /// It ran past its timeout and was stopped.
  public var timedOut = false
  /// The run was interrupted (Ctrl-C, SIGTERM) and the command stopped.
  public var interrupted = false
  /// The program could not be started.
  public var launchError: String?
  /// The connection to the host was lost while the step ran, and the host's answer (or the
  /// lack of one) did not give an exit status.
  public var lost: LostStep?

  /// What is known of a step whose connection was lost.
  public enum LostStep: Sendable, Equatable {
    /// Its processes ended without writing a status (killed with the session).
    case gone
    /// It never started on the host.
    case neverStarted
    /// The host could not be asked.
    case unknown
  }

  /// Whether it exited with status 0.
  public var succeeded: Bool { exitStatus == 0 && !timedOut && !interrupted }

  /// Creates an outcome.
  public init(
    exitStatus: Int32? = nil, signal: Int32? = nil, timedOut: Bool = false,
    interrupted: Bool = false, launchError: String? = nil
  ) {
    self.exitStatus = exitStatus
    self.signal = signal
    self.timedOut = timedOut
    self.interrupted = interrupted
    self.launchError = launchError
  }
}

/// Runs programs: the one door through which execution starts processes, so that the
/// executor is tested with real processes and the planner and renderers without any.
public protocol CommandRunning: Sendable {
  /// Runs `command` with `input` on standard input, streaming what it prints. On timeout or
  /// task cancellation the command's process group is stopped (TERM, then KILL).
  func run(
    _ command: ProcessCommand, input: String, timeout: Duration?,
    stdout: @escaping @Sendable ([UInt8]) -> Void, stderr: @escaping @Sendable ([UInt8]) -> Void
  ) async -> CommandOutcome

  /// Runs a long-lived `command` (a host's session) in its own process group, with `input`
  /// as its standard input (what is sent to it is written at once; finishing it closes the
  /// pipe), streaming what it prints, until its output ends. Task cancellation stops its
  /// process group (TERM, then KILL).
  func session(
    _ command: ProcessCommand, input: SessionInput,
    stdout: @escaping @Sendable ([UInt8]) -> Void, stderr: @escaping @Sendable ([UInt8]) -> Void
  ) async -> CommandOutcome

  /// Runs `command` on this terminal (standard input, output and error shared), off the
  /// cooperative pool while it waits; its exit status.
  func attached(_ command: ProcessCommand) async -> Int32
}

/// Runs programs as child processes in their own process group (swift-subprocess).
public struct SubprocessRunner: CommandRunning {
  /// How long a stopped command gets between TERM and KILL.
  public var gracePeriod: Duration = .seconds(2)

  /// Creates a runner.
  public init() {}

  public func run(
    _ command: ProcessCommand, input: String, timeout: Duration?,
    stdout: @escaping @Sendable ([UInt8]) -> Void, stderr: @escaping @Sendable ([UInt8]) -> Void
  ) async -> CommandOutcome {
    var options = PlatformOptions()
    options.processGroupID = 0
    let executable = command.subprocessExecutable
    let state = StopState()
    do {
      let result = try await Subprocess.run(
        executable, arguments: Arguments(command.arguments), platformOptions: options,
        input: .inputWriter, output: .sequence, error: .sequence
      ) { execution in
        let group = execution.processIdentifier.value
        let teardown = ProcessGroupTeardown(grace: gracePeriod)
        @Sendable func stopGroup(_ why: StopState.Reason) async {
          guard state.begin(why) else { return }
          await teardown.stop(group)
        }
        await withAwaitedCancellation {
          await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
              _ = try? await execution.standardInputWriter.write(input)
              try? await execution.standardInputWriter.finish()
            }
            tasks.addTask { await Self.forward(execution.standardOutput, to: stdout) }
            tasks.addTask { await Self.forward(execution.standardError, to: stderr) }
            if let timeout {
              tasks.addTask {
                do {
                  try await Task.sleep(for: timeout)
                  await stopGroup(.timeout)
                } catch {}
              }
            }
            // Output ends when the process (and everything holding its pipes) is gone;
            // then the timer is no longer needed.
            await tasks.next()
            await tasks.next()
            await tasks.next()
            tasks.cancelAll()
          }
        } onCancel: {
          await stopGroup(.interrupt)
        }
      }
      var outcome = CommandOutcome()
      switch result.terminationStatus {
      case .exited(let code): outcome.exitStatus = code
      case .signaled(let signal): outcome.signal = signal
      }
      outcome.timedOut = state.reason == .timeout
      outcome.interrupted = state.reason == .interrupt
      return outcome
    } catch {
      return CommandOutcome(launchError: "\(error)")
    }
  }
}

extension SubprocessRunner {
  public func session(
    _ command: ProcessCommand, input: SessionInput,
    stdout: @escaping @Sendable ([UInt8]) -> Void, stderr: @escaping @Sendable ([UInt8]) -> Void
  ) async -> CommandOutcome {
    guard let pipes = SessionPipes.make() else {
      input.finish()
      return CommandOutcome(launchError: "cannot make pipes: \(String(cString: strerror(errno)))")
    }
    // A session of its own: no controlling terminal for the loop and its steps (a step
    // cannot read the operator's keys, and bash's job control leaves the terminal alone),
    // and its process group is its own.
    var options = PlatformOptions()
    options.createSession = true
    var spawned = false
    do {
      let result = try await Subprocess.run(
        command.subprocessExecutable, arguments: Arguments(command.arguments),
        platformOptions: options,
        input: .fileDescriptor(
          FileDescriptor(rawValue: pipes.child.input), closeAfterSpawningProcess: true),
        output: .fileDescriptor(
          FileDescriptor(rawValue: pipes.child.output), closeAfterSpawningProcess: true),
        error: .fileDescriptor(
          FileDescriptor(rawValue: pipes.child.error), closeAfterSpawningProcess: true)
      ) { execution in
        spawned = true
        let group = execution.processIdentifier.value
        input.attach(pipes.parent.input)
        await withAwaitedCancellation {
          // The session ends when the shell (and all that holds its output) is gone.
          await pipes.read(stdout: stdout, stderr: stderr)
        } onCancel: {
          await ProcessGroupTeardown(grace: gracePeriod).stop(group)
        }
        input.finish()
      }
      switch result.terminationStatus {
      case .exited(let code): return CommandOutcome(exitStatus: code)
      case .signaled(let signal): return CommandOutcome(signal: signal)
      }
    } catch {
      if !spawned {
        // Not started: the ends it would have had are closed by swift-subprocess or here.
        input.finish()
        for fd in [pipes.parent.input, pipes.parent.output, pipes.parent.error] { close(fd) }
      }
      return CommandOutcome(launchError: "\(error)")
    }
  }

  public func attached(_ command: ProcessCommand) async -> Int32 {
    // Waiting for an operator's shell blocks a thread for minutes: a thread of its own,
    // never one of the cooperative pool.
    await offPool { Self.runAttached(command) }
  }

  /// Runs a program on this terminal (standard input, output and error shared) and waits.
  static func runAttached(_ command: ProcessCommand) -> Int32 {
    let process = Process()
    if command.executable.contains("/") {
      process.executableURL = URL(fileURLWithPath: command.executable)
      process.arguments = command.arguments
    } else {
      process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
      process.arguments = [command.executable] + command.arguments
    }
    process.standardInput = FileHandle.standardInput
    process.standardOutput = FileHandle.standardOutput
    process.standardError = FileHandle.standardError
    do {
      try process.run()
      // The child has a process group of its own (an operator's Ctrl-C is the shell's, not
      // the run's): it gets the terminal while it runs, and a nudge in case it stopped
      // itself waiting for it; the terminal comes back to the tool after.
      let child = process.processIdentifier
      let handsOver =
        isatty(STDIN_FILENO) == 1 && getpgid(child) == child
        && tcgetpgrp(STDIN_FILENO) == getpgrp()
      if handsOver {
        tcsetpgrp(STDIN_FILENO, child)
        kill(-child, SIGCONT)
      }
      process.waitUntilExit()
      if handsOver {
        // Taking the terminal back from the background signals SIGTTOU unless ignored.
        let previous = signal(SIGTTOU, SIG_IGN)
        tcsetpgrp(STDIN_FILENO, getpgrp())
        signal(SIGTTOU, previous)
      }
      return process.terminationStatus
    } catch {
      return -1
    }
  }

  /// Hands each chunk a process prints to `sink`, until the output ends.
  private static func forward(
    _ output: SubprocessOutputSequence, to sink: @Sendable ([UInt8]) -> Void
  ) async {
    do {
      for try await chunk in output { sink(chunk.withUnsafeBytes { Array($0) }) }
    } catch {}
  }
}

/// Remembers why a command was stopped, so a timeout and an interrupt are told apart and
/// the stop sequence runs once.
struct StopState: Sendable {
  enum Reason { case timeout, interrupt }
  private let why = Locked<Reason?>(nil)

  var reason: Reason? { why.get() }

  /// Records `why`; false when a stop is already under way.
  func begin(_ reason: Reason) -> Bool {
    why.withLock {
      guard $0 == nil else { return false }
      $0 = reason
      return true
    }
  }
}
