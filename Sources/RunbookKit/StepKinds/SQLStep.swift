extension StepKind {
  /// SQL statements piped to a database client (`mysql` unless `client=` says otherwise).
  public static let sql = StepKind(rawValue: "sql")
}

/// `sql` and `mysql` blocks: the statements, without the prompts a guide copied with them,
/// go to the client's standard input; consecutive steps with the same client that runbook
/// knows type into one client kept open (`SQLClientSession`), unless isolated.
struct SQLStep: StepKindHandler {
  let kind = StepKind.sql
  let session = SessionUse.reads

  /// The languages piped to a SQL client.
  static let languages: Set<String> = ["sql", "mysql"]

  func claims(_ block: BlockFacts) -> Bool { Self.languages.contains(block.language) }

  func script(_ input: ScriptInput, on host: HostAccess) async -> ScriptOrEnd {
    if let session = input.client, let client = SQLClient(session.command) {
      return .script(
        StepScript.sql(
          input.rendered.body, client: client, session: session, prelude: input.prelude,
          creates: input.fields[.creates], unless: input.fields[.unless], nonce: input.nonce))
    }
    return .script(
      StepScript.sql(
        input.rendered.body, client: input.fields[.client], prelude: input.prelude,
        creates: input.fields[.creates], unless: input.fields[.unless], nonce: input.nonce))
  }

  func exportAction(_ input: ScriptInput) -> ExportAction {
    if let session = input.client, let client = SQLClient(session.command) {
      return .script(
        StepScript.sql(
          input.rendered.body, client: client, session: session, prelude: input.prelude))
    }
    return .script(
      StepScript.sql(input.rendered.body, client: input.fields[.client], prelude: input.prelude))
  }

  func quotedValue(_ name: String) -> String? {
    "{{ \(name) | mysql }} (MariaDB, MySQL) or {{ \(name) | sql }} (standard SQL)"
  }
}
