import Foundation
import Testing

@testable import RunbookKit

/// One rule of an ini merge: a block merged into a file, and the file it must give.
struct INIMergeCase: Sendable, CustomTestStringConvertible {
  var rule: String
  var block: String
  var original: String
  var section: String? = nil
  var expected: String

  var testDescription: String { rule }
}

/// An ini merge changes only the lines of the keys it sets (issue 25, "edits that lose
/// nothing"): the rules one by one, then the merges operators do on real-looking files.
extension FileEditTests {
  static let rules: [INIMergeCase] = [
    INIMergeCase(
      rule: "comment lines indented under a setting are not its continuation (postgresql.conf)",
      block: "listen_addresses = '*'\n",
      original: """
        listen_addresses = 'localhost'\t\t# what IP address(es) to listen on;
        \t\t\t\t\t# comma-separated list of addresses;
        \t\t\t\t\t# (change requires restart)
        port = 5432\t\t\t\t# (change requires restart)

        """,
      expected: """
        listen_addresses = '*'\t\t# what IP address(es) to listen on;
        \t\t\t\t\t# comma-separated list of addresses;
        \t\t\t\t\t# (change requires restart)
        port = 5432\t\t\t\t# (change requires restart)

        """),
    INIMergeCase(
      rule: "a comment indented under a key of the block is not written as a value line",
      block: "[main]\nkey = 3\n    # why three\nother = 4\n\t; and four\n",
      original: "[main]\nkey = 1\nother = 2\n",
      expected: "[main]\nkey = 3\nother = 4\n"),
    INIMergeCase(
      rule: "comments between continuation lines stay in their places (configparser skips them)",
      block: "[testenv]\ndeps =\n    pytest>=8\n    pytest-cov\n    requests\n    hypothesis\n",
      original: Self.tox,
      expected: """
        [testenv]
        deps =
            pytest>=8
            # measured in CI only
            pytest-cov
        #    pytest-randomly
            requests
            hypothesis
        commands = pytest

        """),
    INIMergeCase(
      rule: "after a shorter value the comments follow its last line",
      block: "deps =\n    pytest>=8\n", original: Self.tox, section: "testenv",
      expected: """
        [testenv]
        deps =
            pytest>=8
            # measured in CI only
        #    pytest-randomly
        commands = pytest

        """),
    INIMergeCase(
      rule: "the replaced line keeps its indentation and the spacing around its = or :",
      block: "bind-address = 0.0.0.0\nport = 3307\nuser = maria\nsocket = /run/mysqld.sock\n",
      original:
        "[mysqld]\n  bind-address      = 127.0.0.1\n  port=3306\n  user: mysql\n  socket =\n",
      section: "mysqld",
      expected:
        "[mysqld]\n  bind-address      = 0.0.0.0\n  port=3307\n  user: maria\n  socket = /run/mysqld.sock\n"
    ),
    INIMergeCase(
      rule: "an empty value leaves no trailing space, a bare key takes the block's line",
      block: "[s]\nkey =\nquick = 1\n", original: "[s]\n  key = 5\n  quick\n",
      expected: "[s]\n  key =\n  quick = 1\n"),
    INIMergeCase(
      rule: "an inline comment stays after the new value, with the white space before it",
      block: "[mysqld]\nmax_allowed_packet = 256M\n",
      original: "[mysqld]\nmax_allowed_packet = 64M     # large rows\nwait_timeout = 600\t# idle\n",
      expected: "[mysqld]\nmax_allowed_packet = 256M     # large rows\nwait_timeout = 600\t# idle\n"
    ),
    INIMergeCase(
      rule: "a comment on the block's line replaces the old one",
      block: "[mysqld]\nwait_timeout = 300  # the pool recycles\n",
      original: "[mysqld]\nmax_allowed_packet = 64M     # large rows\nwait_timeout = 600\t# idle\n",
      expected:
        "[mysqld]\nmax_allowed_packet = 64M     # large rows\nwait_timeout = 300  # the pool recycles\n"
    ),
    INIMergeCase(
      rule: "a file that writes ; comments keeps them, and # starting a value is the value's",
      block: "memory_limit = 256M\nhighlight.comment = #FF8000\n",
      original:
        "max_input_time = 60\t; parsing\nmemory_limit = 128M      ; per script\nhighlight.comment = #FF9900\n",
      expected:
        "max_input_time = 60\t; parsing\nmemory_limit = 256M      ; per script\nhighlight.comment = #FF8000\n"
    ),
    INIMergeCase(
      rule: "one value holding ' #' is not a style of inline comments: the line is replaced whole",
      block: "password = n0va pass #2\n",
      original: "[keystone_authtoken]\nusername = nova\npassword = nova pass #1\n",
      section: "keystone_authtoken",
      expected: "[keystone_authtoken]\nusername = nova\npassword = n0va pass #2\n"),
    INIMergeCase(
      rule: "a comment starts only after white space, and after a quoted value's closing quote",
      block: "a = 'y #2'\nb = http://h/#top\n",
      original: "a = 'x #1'\t# quoted\nb = http://h/#frag\t# fragment\n",
      expected: "a = 'y #2'\t# quoted\nb = http://h/#top\t# fragment\n"),
  ]

  static let tox = """
    [testenv]
    deps =
        pytest>=7
        # measured in CI only
        pytest-cov
    #    pytest-randomly
        requests
    commands = pytest

    """

  @Test(arguments: rules)
  func anIniMergeRule(_ rule: INIMergeCase) {
    let merged = FileEdit.mergeINI(rule.block, into: rule.original, section: rule.section)
    #expect(merged == rule.expected)
    #expect(FileEdit.mergeINI(rule.block, into: merged, section: rule.section) == merged)
  }

  /// The cases of Fixtures/ini/merges (see its README), by file name.
  static let fixtureMerges = Fixtures.files(in: "ini/merges", extensions: ["md"])
    .filter { $0.hasSuffix(".merge.md") }.map { String($0.dropLast(".merge.md".count)) }

  /// The file `name` of Fixtures/ini/merges and the block and `section=` of each `ini` step
  /// of its runbook, in order.
  static func fixtureMerge(_ name: String) throws -> (
    original: String, steps: [(block: String, section: String?)], problems: [Diagnostic]
  ) {
    let (runbook, problems) = Runbook.parse(
      try Fixtures.text("ini/merges/\(name).merge.md"), file: "\(name).merge.md")
    let steps = runbook.steps.filter { $0.kind == .iniMerge }.map {
      (block: $0.body, section: $0.attributes.section)
    }
    return (try Fixtures.text("ini/merges/\(name)"), steps, problems)
  }

  @Test(arguments: fixtureMerges)
  func anIniMergeOnARealFileChangesOnlyItsKeys(name: String) throws {
    let merge = try Self.fixtureMerge(name)
    #expect(merge.problems.isEmpty, "\(merge.problems)")
    #expect(!merge.steps.isEmpty)
    func run(on text: String) -> String {
      merge.steps.reduce(text) { FileEdit.mergeINI($1.block, into: $0, section: $1.section) }
    }
    let merged = run(on: merge.original)
    #expect(merged == (try Fixtures.text("ini/merges/\(name).expected")))
    #expect(run(on: merged) == merged, "a second run changes nothing")
  }
}
