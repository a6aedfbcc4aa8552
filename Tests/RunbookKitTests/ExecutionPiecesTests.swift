import Testing

@testable import RunbookKit

@Suite struct ConsoleTranscriptTests {
  @Test func parsesCommandsOutputsAndStatus() {
    let t = ConsoleTranscript("$ echo a\na\n# false\n[1]\n$ printf 'x\\\n> y'\nxy\n")
    #expect(t.commands.map(\.command) == ["echo a", "false", "printf 'x\\\ny'"])
    #expect(t.commands.map(\.expected) == [["a"], [], ["xy"]])
    #expect(t.commands.map(\.expectedStatus) == [0, 1, 0])
  }

  @Test func patternsMatchLikeCram() {
    #expect(ConsoleTranscript.matches(["id 42 ok"], ["id [0-9]+ ok (re)"]))
    #expect(ConsoleTranscript.matches(["a", "b", "c", "end"], ["a", "...", "end"]))
    #expect(ConsoleTranscript.matches(["file.txt"], ["*.txt (glob)"]))
    #expect(!ConsoleTranscript.matches(["a", "b"], ["a"]))
    #expect(!ConsoleTranscript.matches(["x.txt"], ["?.doc (glob)"]))
  }
}

@Suite struct FileEditTests {
  static let keystone = """
    [DEFAULT]
    # the admin token
    #admin_token = <None>
    debug = false

    [database]
    # connection = <None>
    connection = sqlite:////var/lib/keystone/keystone.db

    [token]
    provider = uuid

    """

  @Test func mergeReplacesKeysInPlaceAndKeepsComments() {
    let merged = FileEdit.mergeINI(
      "[database]\nconnection = mysql+pymysql://k:p@db/keystone\n[token]\nprovider = fernet\nexpiration = 3600\n",
      into: Self.keystone, section: nil)
    #expect(
      merged == """
        [DEFAULT]
        # the admin token
        #admin_token = <None>
        debug = false

        [database]
        # connection = <None>
        connection = mysql+pymysql://k:p@db/keystone

        [token]
        provider = fernet
        expiration = 3600

        """)
    // A second merge changes nothing.
    #expect(
      FileEdit.mergeINI(
        "[token]\nprovider = fernet\nexpiration = 3600\n", into: merged, section: nil) == merged)
  }

  @Test func sectionAttributeAndNewSections() {
    let merged = FileEdit.mergeINI("debug = true\n", into: Self.keystone, section: "DEFAULT")
    #expect(merged.contains("debug = true\n\n[database]"))
    let added = FileEdit.mergeINI("[cache]\nenabled = true\n", into: "[a]\nx = 1\n", section: nil)
    #expect(added == "[a]\nx = 1\n\n[cache]\nenabled = true\n")
    #expect(FileEdit.mergeINI("[s]\nk = v\n", into: "", section: nil) == "[s]\nk = v\n")
  }

  @Test func appendIsIdempotentAndReplacesItsBlock() {
    let once = FileEdit.appendBlock("listen x\n  bind :5000\n", to: "global\n", id: "haproxy")
    #expect(
      once == "global\n# BEGIN RUNBOOK haproxy\nlisten x\n  bind :5000\n# END RUNBOOK haproxy\n")
    #expect(FileEdit.appendBlock("listen x\n  bind :5000\n", to: once, id: "haproxy") == once)
    let changed = FileEdit.appendBlock("listen y\n", to: once + "tail\n", id: "haproxy")
    #expect(changed == "global\n# BEGIN RUNBOOK haproxy\nlisten y\n# END RUNBOOK haproxy\ntail\n")
  }
}

@Suite struct StepScriptTests {
  @Test func sqlPromptsAreStripped() {
    let sql = StepScript.stripPrompts(
      "MariaDB [(none)]> CREATE DATABASE keystone;\nmysql> GRANT ALL ON keystone.* TO 'k'@'%'\n    -> IDENTIFIED BY 'p';\nSELECT 1;"
    )
    #expect(
      sql
        == "CREATE DATABASE keystone;\nGRANT ALL ON keystone.* TO 'k'@'%'\nIDENTIFIED BY 'p';\nSELECT 1;"
    )
  }

  @Test func shellScriptsRunInsideAGroupWithoutStdin() {
    let script = StepScript.shell("echo hi\n", bash: true, creates: "/x y", nonce: "N")
    #expect(script.shell == .bash)
    #expect(
      script.text
        == "if [ -e '/x y' ]; then echo 'N skip creates'; exit 0; fi\nset -eo pipefail\n{\necho hi\n} </dev/null\n"
    )
  }

  @Test func lineDiffMarksChanges() {
    #expect(LineDiff.lines(["a", "b", "c"], ["a", "x", "c"]) == ["  a", "- b", "+ x", "  c"])
  }
}
