import Foundation
import Testing

@testable import RunbookKit

/// `check`'s operability review: one warning per step that cannot run unattended or leaks a
/// secret by design, at the line, with the fix; none for steps written as an operator would.
@Suite struct OperabilityReviewTests {
  static func review(_ markdown: String) throws -> [Diagnostic] {
    let (runbook, problems) = Runbook.parse(markdown, file: "r.md")
    let (plan, more) = Planner.plan(runbook, inventory: nil)
    #expect((problems + more).filter { $0.severity == .error }.isEmpty, "\(problems + more)")
    return OperabilityReview.review(plan)
  }

  static let hostile = """
    ---
    secrets: [db_pass, admin_pass]
    ---
    # Hostile
    ```sh {role=app}
    sudo nano /etc/app.conf
    ```
    ```sh {role=app}
    journalctl -u app -f
    ```
    ```sh {role=app}
    DEBIAN_FRONTEND=noninteractive apt-get install nginx
    ```
    ```sh {role=app}
    cd /srv/app && python3 manage.py runserver 0.0.0.0:8000
    ```
    ```sh {role=app}
    sudo -u app python3 manage.py createsuperuser
    ```
    ```sh {role=app}
    mysql -u root -p{{ db_pass | quote }} -e 'SELECT 1'
    ```
    ```sh {role=app}
    openstack --os-password {{ admin_pass | quote }} token issue
    ```
    ```ini {role=app file=/etc/nova/nova.conf section=database}
    connection = mysql+pymysql://nova:{{ db_pass }}@db/nova
    ```
    ```text {role=app file=/etc/app/secret.env}
    PASSWORD={{ db_pass }}
    ```
    ```console {role=app}
    $ less /var/log/app.log
    ```
    """

  @Test func oneWarningPerStepAtItsLineWithTheFix() throws {
    let warnings = try Self.review(Self.hostile)
    let byLine = Dictionary(grouping: warnings) { $0.location?.line ?? 0 }
    #expect(warnings.allSatisfy { $0.severity == .warning })
    #expect(byLine.count == warnings.count, "one warning per line: \(warnings)")
    func message(_ line: Int) -> String { byLine[line]?.first?.message ?? "none at \(line)" }
    #expect(message(6).contains("'nano /etc/app.conf' opens an editor"))
    #expect(message(9).contains("never ends by itself") && message(9).contains("timeout="))
    #expect(message(12).contains("asks for a yes") && message(12).contains("add -y"))
    #expect(message(15).contains("serves in the foreground"))
    #expect(message(18).contains("--noinput"))
    #expect(
      message(21).contains("'db_pass' is an argument of mysql") && message(21).contains("MYSQL_PWD")
    )
    #expect(message(24).contains("OS_PASSWORD"))
    #expect(message(27).contains("'db_pass' is in a URL without | url"))
    #expect(message(29).contains("mode 0644") && message(29).contains("mode=0600"))
    #expect(message(33).contains("'less /var/log/app.log' opens a pager"))
    #expect(warnings.count == 10, "\(warnings.map(\.description))")
  }

  /// The same steps written as an operator would: nothing to say.
  @Test func stepsWrittenForAnUnattendedRunPass() throws {
    let warnings = try Self.review(
      """
      ---
      secrets: [db_pass, admin_pass]
      ---
      # Fine
      ```sh {role=app}
      journalctl -u app -n 50 --no-pager
      apt-get install -y nginx
      nohup python3 manage.py runserver 0.0.0.0:8000 > /tmp/dev.log 2>&1 &
      python3 manage.py createsuperuser --noinput
      ```
      ```sh {role=app env="MYSQL_PWD={{ db_pass }}"}
      mysql -u root -e 'SELECT 1'
      echo {{ admin_pass | quote }} | passwd --stdin admin
      cat > /etc/app.conf <<EOF
      nano is only a word here
      EOF
      ```
      ```sh {role=app timeout=30s}
      tail -f /var/log/app.log
      ```
      ```ini {role=app file=/etc/nova/nova.conf section=database}
      connection = mysql+pymysql://nova:{{ db_pass | url }}@db/nova
      ```
      ```text {role=app file=/etc/app/secret.env mode=0600}
      PASSWORD={{ db_pass }}
      ```
      """)
    #expect(warnings.isEmpty, "\(warnings.map(\.description))")
  }

  /// A command is quoted as the runbook writes it (its variables as `{{ … }}`), and a
  /// secret whose name holds "url" is no more encoded than another.
  @Test func messagesQuoteTheRunbookAndFiltersAreReadAsThePlannerReadsThem() throws {
    let warnings = try Self.review(
      """
      ---
      vars: {pkg: nginx}
      secrets: [db_url_pass]
      ---
      # R
      ```sh {role=app}
      apt-get install {{ pkg }}
      ```
      ```ini {role=app file=/etc/app.conf section=db}
      url = mysql://app:{{ db_url_pass }}@db/app
      ```
      """)
    #expect(
      warnings.map(\.message) == [
        "'apt-get install {{ pkg }}' asks for a yes before it changes anything; add -y",
        "the secret 'db_url_pass' is in a URL without | url: a value holding @ / : % breaks it; write {{ db_url_pass | url }}",
      ])
  }
}
