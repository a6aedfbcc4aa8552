import Foundation
import Testing

@testable import RunbookKit

/// Steps on a host run as if typed into one terminal: run for real on this machine.
@Suite(.serialized) struct SessionExecutionTests {
  /// A guide's first step as a README writes it: a directory, a sourced file, an exported
  /// and a plain variable, a function.
  static let guide = """
    # App

    ```sh {role=app}
    mkdir -p {{ dir }}/app && cd {{ dir }}/app
    printf 'VIRTUAL_ENV={{ dir }}/app/venv; export VIRTUAL_ENV\\nPATH="$VIRTUAL_ENV/bin:$PATH"\\n' > activate
    . ./activate
    export PORT=3000
    GREETING="hello there"
    ```

    ```bash {role=app}
    greet() { echo "$GREETING from $(basename "$PWD") on port $PORT"; }
    ```

    ```sh {role=app}
    test -e {{ dir }}/go
    ```

    ```bash {role=app}
    greet
    echo "venv=${VIRTUAL_ENV#{{ dir }}/}"
    case $PATH in "$VIRTUAL_ENV/bin:"*) echo "venv first on PATH" ;; esac
    ```

    ```python {role=app}
    import os
    print(os.path.basename(os.getcwd()), os.environ.get("PORT"), os.environ.get("GREETING"))
    ```

    ```sh {role=app isolated}
    echo "isolated: port=[${PORT:-}] greeting=[${GREETING:-}] in $(basename "$PWD")"
    ```

    ```sh {role=app}
    echo "sh: $GREETING $PORT in $(basename "$PWD")"
    ```
    """

  static let expected = [
    "hello there from app on port 3000", "venv=app/venv", "venv first on PATH",
    "app 3000 None", "sh: hello there 3000 in app",
  ]

  func output(_ run: LocalRun) -> [String] {
    run.lines.flatMap { $0.split(separator: "\n") }.map {
      $0.trimmingCharacters(in: .whitespaces)
    }
  }

  @Test func stateCarriesFromStepToStepAndIsolatedStepsSeeNone() async throws {
    var run = try LocalRun()
    defer { run.cleanUp() }
    FileManager.default.createFile(atPath: run.path + "/go", contents: nil)
    try await run.exec(Self.guide)
    #expect(run.summary?.status == .passed)
    let lines = output(run)
    for line in Self.expected { #expect(lines.contains(line), "missing: \(line)") }
    let isolated = try #require(lines.first { $0.hasPrefix("isolated:") })
    #expect(isolated.hasPrefix("isolated: port=[] greeting=[] in ") && !isolated.hasSuffix(" app"))

    // The journal says what each step changed in the session.
    let first = try #require(run.records.first?.session)
    #expect(first.cwd?.text == run.path + "/app")
    #expect(first.set?["PORT"]?.exported == true && first.set?["GREETING"]?.exported == false)
    #expect(first.set?["VIRTUAL_ENV"] != nil && first.set?["PATH"]?.isNew == false)
    #expect(run.records[1].session?.functions?["greet"] != nil)
    #expect(run.records.dropFirst(2).allSatisfy { $0.session == nil })
  }

  @Test func aResumedRunStartsWhereTheFinishedStepsLeftTheSession() async throws {
    var run = try LocalRun()
    defer { run.cleanUp() }
    let runDirectory = run.path + "/run"
    try await run.exec(Self.guide, runDirectory: runDirectory)
    #expect(run.summary?.status == .failed)
    #expect(!output(run).contains(Self.expected[0]))

    FileManager.default.createFile(atPath: run.path + "/go", contents: nil)
    try await run.exec(Self.guide, runDirectory: runDirectory) { $0.resume = true }
    #expect(run.summary?.status == .passed)
    let lines = output(run)
    for line in Self.expected { #expect(lines.contains(line), "missing: \(line)") }
  }

  @Test func eachUserHasASessionOfItsOwn() async throws {
    guard getuid() == 0 else { return }
    var run = try LocalRun()
    defer { run.cleanUp() }
    try await run.exec(
      """
      ```sh {role=app user=nobody}
      cd /tmp && export WHO=nobody-session
      ```

      ```sh {role=app}
      echo "login: [${WHO:-}]"
      ```

      ```sh {role=app user=nobody}
      echo "nobody: [$WHO] in $PWD as $(id -un)"
      ```
      """)
    #expect(run.summary?.status == .passed)
    let lines = output(run)
    #expect(lines.contains("login: []"))
    #expect(lines.contains("nobody: [nobody-session] in /tmp as nobody"))
    #expect(run.records.first?.session?.user == "nobody")
  }

  @Test func aStepsOwnDirectoryStaysItsOwn() async throws {
    var run = try LocalRun()
    defer { run.cleanUp() }
    try await run.exec(
      """
      ```sh {role=app}
      cd {{ dir }}
      ```

      ```sh {role=app cwd=/usr}
      pwd
      ```

      ```sh {role=app}
      echo "then in $PWD"
      ```

      ```sh {role=app cwd=/usr}
      cd share
      ```

      ```sh {role=app}
      echo "now in $PWD"
      ```
      """)
    let lines = output(run)
    #expect(lines.contains("/usr"))
    #expect(lines.contains("then in \(run.path)"))
    #expect(lines.contains("now in /usr/share"))
  }

  @Test func aSecretTheSessionHoldsIsMaskedAndSealed() async throws {
    var run = try LocalRun()
    defer { run.cleanUp() }
    try await run.exec(
      """
      ```sh {role=app}
      export DB_PASSWORD="$(printf '%s-%s' made-on host-9f3a)"
      ```

      ```sh {role=app}
      echo "password is $DB_PASSWORD"
      ```
      """)
    #expect(run.summary?.status == .passed)
    #expect(output(run).contains("password is ********"))
    for file in try FileManager.default.subpathsOfDirectory(atPath: run.path + "/run") {
      let text = (try? String(contentsOfFile: run.path + "/run/" + file, encoding: .utf8)) ?? ""
      #expect(!text.contains("made-on-host-9f3a"), "\(file) holds the secret")
    }
    #expect(run.records.first?.session?.set?["DB_PASSWORD"]?.sealed != nil)
  }

  @Test func wholeDocumentsCanOptOut() async throws {
    var run = try LocalRun()
    defer { run.cleanUp() }
    try await run.exec(
      """
      ---
      session: isolated
      ---

      ```sh {role=app}
      export CARRIED=yes
      ```

      ```sh {role=app}
      echo "carried=[${CARRIED:-}]"
      ```
      """)
    #expect(output(run).contains("carried=[]"))
    #expect(run.records.allSatisfy { $0.session == nil })
  }
}
