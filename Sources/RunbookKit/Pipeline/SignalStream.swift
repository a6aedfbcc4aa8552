import Foundation

/// The process's interrupt signals as a stream: while it is listened to, SIGINT and SIGTERM
/// no longer end the process, they arrive as values (a run stops its steps and still writes
/// its reports).
public enum SignalStream {
  /// Starts listening to `signals`; the handlers go when the stream ends. The signals stay
  /// ignored after that: a run that is writing its reports finishes them.
  public static func listen(to signals: [Int32] = [SIGINT, SIGTERM]) -> AsyncStream<Int32> {
    AsyncStream { continuation in
      let sources = signals.map { number -> any DispatchSourceSignal in
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number)
        source.setEventHandler { continuation.yield(number) }
        source.resume()
        return source
      }
      let handlers = Handlers(sources: sources)
      continuation.onTermination = { _ in handlers.cancel() }
    }
  }

  /// The dispatch sources of one stream, cancelled when it ends.
  private final class Handlers: @unchecked Sendable {
    // Safe: `sources` is never changed after init, and cancelling a dispatch source is
    // thread-safe.
    let sources: [any DispatchSourceSignal]
    init(sources: [any DispatchSourceSignal]) { self.sources = sources }
    func cancel() { for source in sources { source.cancel() } }
  }
}
