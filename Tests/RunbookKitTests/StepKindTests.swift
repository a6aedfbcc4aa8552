import Foundation
import Testing

@testable import RunbookKit

/// Step kinds are handlers in one registry: each kind is claimed by exactly the blocks it
/// was before, journals keep the names they had, and a name this build does not know runs
/// nothing.
@Suite struct StepKindTests {
  /// Journals written before kinds were handlers name kinds by these words.
  @Test func everyKindHasOneHandlerUnderItsJournalName() {
    let names = StepKinds.all.map(\.kind.rawValue)
    #expect(
      Set(names) == [
        "shell", "bash", "console", "sql", "file", "ini", "append", "manual", "program",
        "python-session",
      ])
    #expect(names.count == Set(names).count, "one handler per kind")
    for handler in StepKinds.all {
      #expect(StepKinds.handler(for: handler.kind)?.kind == handler.kind)
    }
  }

  /// The first handler that claims a block gives its kind: a file beats the language, an
  /// interpreter beats the fence, a Runme document's bash makes `sh` blocks bash.
  @Test func blocksGetTheKindTheyHadBefore() throws {
    let cases: [(String, String, String?, StepKind)] = [
      ("sh", "", nil, .shell), ("shell", "", nil, .shell), ("bash", "", nil, .bash),
      ("sh", "", "/bin/bash", .bash), ("sh", "interpreter=bash", nil, .bash),
      ("bash", "interpreter=python3", nil, .program), ("python", "", nil, .program),
      ("perl", "", nil, .program), ("text", "interpreter=ruby", nil, .program),
      ("console", "", nil, .console), ("shell-session", "", nil, .console),
      ("sql", "", nil, .sql), ("mysql", "", nil, .sql), ("manual", "", nil, .manual),
      ("ini", "file=/etc/a.conf", nil, .iniMerge), ("text", "file=/etc/a", nil, .writeFile),
      ("sh", "file=/etc/a", nil, .writeFile), ("text", "file=/etc/a append", nil, .appendBlock),
      ("ini", "file=/etc/a append", nil, .appendBlock),
    ]
    for (language, attributes, runmeShell, kind) in cases {
      let facts = try Self.facts(language, attributes, runmeShell: runmeShell)
      #expect(
        StepKinds.classify(facts) == kind, "```\(language) {\(attributes)} is \(kind.rawValue)")
    }
    #expect(StepKinds.classify(try Self.facts("yaml", "")) == nil)
  }

  static func facts(
    _ language: String, _ attributes: String, runmeShell: String? = nil
  ) throws -> BlockFacts {
    let list = try #require(try AttributeList.parse(info: "\(language) {role=a \(attributes)}"))
    let (parsed, problems) = StepAttributes.validate(list)
    #expect(problems.isEmpty, "\(problems)")
    return BlockFacts(language: language, attributes: parsed, runmeShell: runmeShell)
  }

  /// A journal from a later build may name a kind this one does not know: it reads, and a
  /// step of that kind would run nothing.
  @Test func anUnknownKindReadsAndRunsNothing() async throws {
    let kind = try JSONDecoder().decode(StepKind.self, from: Data(#""docker""#.utf8))
    #expect(kind.rawValue == "docker")
    #expect(!kind.handler.runsCommands)
    #expect(String(decoding: try JSONEncoder().encode(kind), as: UTF8.self) == #""docker""#)
  }
}
