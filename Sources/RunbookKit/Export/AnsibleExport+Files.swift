/// The Python files an exported project carries: they do in Ansible what `FileEdit` and
/// `Template.Filter` do in `runbook exec`, with the same rules (a test runs both on the same
/// inputs and compares).
extension AnsibleExport {
  /// `library/runbook_file.py`: runbook's file steps (write, `ini` merge, `append` block):
  /// the parent made, the original kept as `FILE.runbook-orig` at the first change, an
  /// existing file's mode and owner kept unless the step sets them, a new one 0644.
  static let fileModule = EmbeddedScripts.runbookFile

  /// `filter_plugins/runbook.py`: runbook's value filters (`| quote`, `| sql`, `| mysql`,
  /// `| url`), byte for byte, and the check of a console step's output against its
  /// transcript (`(re)`, `(glob)`, `...`), as `ConsoleTranscript.matches` does it.
  static let filterPlugin = EmbeddedScripts.runbookFilters

  /// `callback_plugins/runbook_journal.py`: writes the run directory of an Ansible run in
  /// runbook's own format (run, start, step and end records in the digest-chained journal,
  /// a log per step and host, the runbook snapshot), so that `runbook report`, `verify` and
  /// `diff` read it as they read a run of `runbook exec`.
  static let journalCallback = EmbeddedScripts.runbookJournal
}
