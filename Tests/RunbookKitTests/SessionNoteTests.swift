import Foundation
import Testing

@testable import RunbookKit

/// `plan`'s reading of what each step does to its hosts' sessions.
@Suite struct SessionNoteTests {
  static let inventory = """
    [web]
    w1 ansible_host=192.0.2.11
    [db]
    d1 ansible_host=192.0.2.21
    """

  func notes(_ markdown: String) throws -> [Int: SessionNote] {
    let (book, problems) = Runbook.parse(markdown, file: "r.md")
    #expect(problems.filter { $0.severity == .error }.isEmpty, "\(problems)")
    let inventory = try InventoryParser.parse(Self.inventory, file: "hosts")
    let (plan, more) = Planner.plan(book, inventory: inventory, options: PlanOptions())
    #expect(more.filter { $0.severity == .error }.isEmpty, "\(more)")
    return SessionNote.notes(of: plan)
  }

  /// Two psql steps, the second typing into the first one's client.
  static let twoStepsOfOneClient = """
    ```sql {role=db client="psql -d app" name=open}
    CREATE TEMP TABLE t(x int);
    ```

    ```sql {role=db client="psql -d app" name=again}
    SELECT * FROM t;
    ```
    """

  @Test func sqlStepsWithOneClientTypeIntoTheFirstOnesUntilAnotherStepComes() throws {
    let notes = try notes(
      Self.twoStepsOfOneClient + """


        ```sql {role=db client="psql -d app" name=apart isolated}
        SELECT 1;
        ```

        ```sql {role=db client="psql -d other" name=other}
        SELECT 2;
        ```

        ```sql {role=db client="psql -d other" name=other-again}
        SELECT 3;
        ```

        ```sh {role=db name=shell}
        true
        ```

        ```sql {role=db client="psql -d other" name=after-shell}
        SELECT 4;
        ```

        ```sql {role=db client="cqlsh" name=unknown}
        SELECT 5;
        ```

        ```sql {role=db client="cqlsh" name=unknown-again}
        SELECT 6;
        ```
        """)
    #expect(notes[1]?.client == "open")
    #expect(notes[2] == nil && notes[3]?.endsClients == ["open"])
    #expect(notes[4]?.client == "other")
    #expect(notes[6] == nil && notes[8] == nil)
  }

  /// Clients are kept per host, as exec keeps them: a step on fewer hosts types into the
  /// client of a step on more, and a step elsewhere ends it only where it runs.
  @Test func clientsAreKeptPerHost() throws {
    let notes = try notes(
      """
      ```sql {role=web,db client="psql -d app" name=both}
      CREATE TEMP TABLE t(x int);
      ```

      ```sql {role=db client="psql -d app" name=db-only}
      SELECT * FROM t;
      ```

      ```sh {role=web name=web-shell}
      true
      ```

      ```sql {role=web,db client="psql -d app" name=again}
      SELECT 1;
      ```
      """)
    #expect(notes[1]?.client == "both")
    #expect(notes[2]?.endsClients == ["both"])
    // On db the client is still open, on web a new one starts: the hosts differ.
    #expect(notes[3]?.client == nil)
  }

  @Test func aTransactionLeftOpenWhenItsClientEndsIsWarnedAbout() throws {
    let markdown = """
      ```sql {role=db client="psql -d app" name=begin}
      postgres=# BEGIN;
      postgres=# INSERT INTO t VALUES (1);
      ```

      ```sh {role=db name=shell}
      true
      ```

      ```sql {role=db client="psql -d app" name=whole}
      START TRANSACTION ISOLATION LEVEL SERIALIZABLE;
      INSERT INTO t VALUES (2);
      COMMIT;
      ```

      ```sql {role=db client="redis-cli" name=multi}
      MULTI
      SET a 1
      ```
      """
    let (book, _) = Runbook.parse(markdown, file: "r.md")
    let inventory = try InventoryParser.parse(Self.inventory, file: "hosts")
    let (_, diagnostics) = Planner.plan(book, inventory: inventory, options: PlanOptions())
    let warnings = diagnostics.filter { $0.message.contains("is still open") }
    #expect(warnings.map { $0.location?.line } == [6, 16], "\(warnings)")
    #expect(
      warnings.first?.message.contains("step begin begins is still open when this step comes")
        == true)
    #expect(warnings.last?.message.contains("when the document ends") == true)
    #expect(TransactionReading("BEGIN;\nCOMMIT;").leaves == .closed)
    #expect(TransactionReading("CREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\nEND").leaves == .closed)
    #expect(TransactionReading("SELECT 1;").leaves == nil)
  }

  @Test func changesAndUsesAreReadFromTheSteps() throws {
    let notes = try notes(
      """
      ```bash {role=web name=setup}
      mkdir -p /srv/app && cd /srv/app
      . venv/bin/activate
      export PORT=3000 DEBUG
      GREETING="it's me"; echo '$NOT_A_USE'
      LANG=C sort file   # LANG is the command's own
      greet() { echo "$GREETING"; }
      unset OLD
      ```

      ```sh {role=web name=use}
      echo "$PORT ${GREETING:-none} $LANG"; greet
      PORT=1
      echo "$PORT"
      ```

      ```sh {role=db name=elsewhere}
      echo "$PORT"
      ```

      ```sh {role=web name=alone isolated}
      echo "$PORT"
      ```

      ```sh {role=web name=root become}
      echo "$PORT"
      ```

      ```sh {role=web name=again}
      echo "$PORT"
      ```
      """)
    #expect(
      notes[0]?.changes == [
        "cd", ". venv/bin/activate", "+PORT", "+DEBUG", "+GREETING", "greet()", "-OLD",
      ])
    #expect(notes[0]?.uses.isEmpty == true)
    let use = try #require(notes[1])
    #expect(use.uses.map(\.name) == ["PORT", "GREETING", "greet()"])
    #expect(use.uses.allSatisfy { $0.step == "setup" })
    #expect(use.changes == ["+PORT"])
    // Another host, an isolated step and another user have sessions of their own.
    #expect(notes[2] == nil && notes[3] == nil && notes[4] == nil)
    #expect(notes[5]?.uses.map { "\($0.name)@\($0.step)" } == ["PORT@use"])
  }
}
