import Testing

@testable import RunbookKit

@Suite struct PlannerTests {
  static let inventoryText = """
    [controller]
    ctl1 ansible_host=192.0.2.10

    [compute]
    cmp1 ansible_host=192.0.2.20 nic=eth1
    cmp2 ansible_host=192.0.2.21 nic=eth2
    cmp3 ansible_host=192.0.2.22

    [lb]

    [all:vars]
    db_password=s3cr3t-value
    region=RegionOne
    """

  @Test func aMissingDirectoryOfALocalStepIsAWarning() throws {
    let (plan, _) = try self.plan(
      """
      ```sh {role=local name=here cwd=/srv/app}
      make
      ```
      ```sh {role=controller name=there cwd=/srv/app}
      make
      ```
      ```sh {role=local name=made cwd=/opt}
      make
      ```
      """, inventory: "[local]\nme ansible_connection=local\n[controller]\nctl1\n")
    let warnings = Preflight.missingDirectories(plan) { $0 == "/opt" }
    // Only the step on this machine is looked at; a remote host's folders are its own.
    #expect(
      warnings.map(\.description) == [
        "r.md:1: warning: cwd=/srv/app is not a directory on this machine: the step fails at its cd unless an earlier step makes it"
      ])
  }

  func plan(
    _ markdown: String, inventory: String? = inventoryText, options: PlanOptions = PlanOptions()
  ) throws -> (Plan, [String]) {
    let (runbook, problems) = Runbook.parse(markdown, file: "r.md")
    let inv = try inventory.map { try InventoryParser.parse($0, file: "hosts") }
    let (plan, more) = Planner.plan(runbook, inventory: inv, options: options)
    return (plan, (problems + more).sortedByLocation().map(\.description))
  }

  @Test func aSecretInsideHandWrittenQuotesIsAWarningWithTheFilterToUse() throws {
    let (_, problems) = try plan(
      """
      ---
      secrets: [pw]
      vars:
        pw: x
      ---
      ```sh {role=compute}
      echo '{{ pw }}' "{{ pw }}" {{ pw | quote }} '{{ host.address }}'
      ```
      ```sql {role=compute}
      GRANT ALL ON db.* TO 'u'@'%' IDENTIFIED BY '{{ pw }}';
      ```
      ```sh {role=compute}
      echo {{ pw | shout }}
      ```
      """)
    #expect(
      problems == [
        "r.md:7: warning: {{ pw }} is a secret inside quotes written in the step: a value holding a quote breaks the command or injects into it; write {{ pw | quote }} without the quotes",
        "r.md:7: warning: {{ pw }} is a secret inside quotes written in the step: a value holding a quote breaks the command or injects into it; write {{ pw | quote }} without the quotes",
        "r.md:10: warning: {{ pw }} is a secret inside quotes written in the step: a value holding a quote breaks the command or injects into it; write {{ pw | mysql }} (MariaDB, MySQL) or {{ pw | sql }} (standard SQL) without the quotes",
        "r.md:13: error: 'shout' is not a filter; use quote (a shell word), sql (a standard SQL string), mysql (a MySQL/MariaDB string) or url (a URL component), as in {{ pw | quote }}",
      ])
  }

  @Test func theBecomePasswordIsTheHostsOwnOrTheFilesAndAlwaysMasked() throws {
    var options = PlanOptions()
    options.becomePassword = "from-the-file"
    let (plan, problems) = try plan(
      "```sh {role=controller,compute}\ntrue\n```\n",
      inventory: PlannerTests.inventoryText.replacingOccurrences(
        of: "cmp1 ansible_host=192.0.2.20",
        with: "cmp1 ansible_host=192.0.2.20 ansible_become_pass=own1"),
      options: options)
    #expect(problems.isEmpty)
    #expect(
      plan.hosts.map(\.becomePassword) == [
        "from-the-file", "own1", "from-the-file", "from-the-file",
      ])
    #expect(plan.masker.mask("own1 from-the-file") == "******** ********")
    let (_, broken) = try self.plan(
      "```sh {role=controller}\ntrue\n```\n",
      inventory:
        "all:\n  children:\n    controller:\n      hosts:\n        ctl1:\n          ansible_become_password: \"line\\nbreak\"\n"
    )
    #expect(
      broken == [
        "hosts:5: error: ansible_become_password of host 'ctl1' holds a line break; sudo reads the password as one line"
      ])
  }

  @Test func filtersEncodeForTheirDestination() {
    #expect(Template.Filter.quote.apply("it's") == #"'it'\''s'"#)
    #expect(Template.Filter.sql.apply(#"a'b\c"#) == #"'a''b\c'"#)
    #expect(Template.Filter.mysql.apply(#"a'b\c"#) == #"'a''b\\c'"#)
    #expect(Template.Filter.url.apply("a b/é@") == "a%20b%2F%C3%A9%40")
    let (template, problems) = Template.parse("x {{ pw | quote | url }} y")
    #expect(problems.isEmpty)
    #expect(template.render { _ in "it's" } == "x %27it%27%5C%27%27s%27 y")
  }

  @Test func rolesMapToTheirHostsInInventoryOrder() throws {
    let (plan, problems) = try plan("```sh {role=compute,controller}\ntrue\n```\n")
    #expect(problems.isEmpty)
    #expect(plan.steps[0].hosts == ["cmp1", "cmp2", "cmp3", "ctl1"])
    #expect(plan.hosts.map(\.name) == ["ctl1", "cmp1", "cmp2", "cmp3"])
    #expect(plan.hosts[0].address == "192.0.2.10")
  }

  @Test func withoutInventoryEveryRoleIsThisMachine() throws {
    let (plan, problems) = try plan(
      "```sh {role=anything}\necho {{ host.name }}\n```\n", inventory: nil)
    #expect(problems.isEmpty)
    #expect(plan.hosts == [PlanHost(name: "localhost", address: "127.0.0.1", connection: .local)])
    #expect(plan.steps[0].renderings[0].body == "echo localhost\n")
  }

  @Test func hostVariablesRenderPerHostAndShareIdenticalResults() throws {
    let (plan, problems) = try plan(
      "```sh {role=compute}\nip link show {{ nic }}\n```\n```sh {role=compute}\necho {{ region }} {{ roles.controller.address }}\n```\n",
      options: {
        var o = PlanOptions()
        o.variables["nic"] = .string("bond0")
        return o
      }())
    #expect(problems.isEmpty)
    // --var wins over host variables, so every host renders the same.
    #expect(plan.steps[0].renderings.count == 1)
    #expect(plan.steps[1].renderings.map(\.body) == ["echo RegionOne 192.0.2.10\n"])

    let (perHost, _) = try self.plan("```sh {role=compute}\necho {{ host.address }}\n```\n")
    #expect(perHost.steps[0].groups.map(\.hosts) == [["cmp1"], ["cmp2"], ["cmp3"]])
    #expect(perHost.steps[0].rendered(for: "cmp2")?.body == "echo 192.0.2.21\n")
  }

  @Test func variableMissingOnSomeHostsNamesThem() throws {
    let (_, problems) = try plan("# T\n\n```sh {role=compute}\nip link set {{ nic }} up\n```\n")
    #expect(
      problems == [
        "r.md:4: error: undefined variable 'nic'; define it in the front matter's vars, in the inventory, with --vars-file or with --var nic=VALUE (on cmp3)"
      ])
  }

  @Test func unknownAndEmptyRolesAreErrorsUnlessAllowed() throws {
    let text = "```sh {role=controler}\ntrue\n```\n```sh {role=lb}\ntrue\n```\n"
    let (_, problems) = try plan(text)
    #expect(problems.count == 2)
    #expect(
      problems[0].hasPrefix(
        "r.md:1: error: role 'controler' is not a group or host of inventory hosts; did you mean 'controller'?"
      ))
    #expect(
      problems[1]
        == "r.md:4: error: role 'lb' has no hosts in inventory hosts; add hosts to [lb] or pass --allow-empty-roles"
    )
    var options = PlanOptions()
    options.allowEmptyRoles = true
    let (plan, lenient) = try self.plan("```sh {role=lb}\ntrue\n```\n", options: options)
    #expect(!lenient.hasErrorLine)
    #expect(plan.steps[0].hosts.isEmpty)
  }

  @Test func secretsAreMaskedInPlanOutput() throws {
    let text =
      "---\nsecrets: [db_password, admin_token]\n---\n```sql {role=controller}\nGRANT ALL TO 'k' IDENTIFIED BY {{ db_password | mysql }};\n```\n```sh {role=controller}\necho {{ admin_token }}\n```\n"
    let (plan, problems) = try plan(text)
    #expect(problems.isEmpty)
    #expect(plan.missingSecrets == ["admin_token"])
    #expect(plan.steps[0].renderings[0].body.contains("s3cr3t-value"))
    #expect(!plan.text().contains("s3cr3t-value"))
    #expect(!plan.json().contains("s3cr3t-value"))
    #expect(plan.text().contains("IDENTIFIED BY '********'"))
  }

  @Test func capturedVariablesArePendingOnlyAfterTheCapture() throws {
    let text =
      "```sh {role=controller}\necho {{ token }}\n```\n```sh {role=controller capture=token}\nopenssl rand -hex 10\n```\n```sh {role=controller}\necho {{ token }}\n```\n"
    let (plan, problems) = try plan(text)
    #expect(
      problems == [
        "r.md:2: error: 'token' is captured by step 2, which runs after this one; move the capturing step earlier"
      ])
    #expect(plan.steps[2].renderings[0].pending == ["token"])
    #expect(plan.steps[2].renderings[0].body == "echo {{ token }}\n")
  }

  @Test func variablesMayReferToVariables() throws {
    let text =
      "---\nvars:\n  url: \"http://{{ roles.controller.address }}:{{ port }}/v3\"\n  port: 5000\n  a: \"{{ b }}\"\n  b: \"{{ a }}\"\n---\n```sh {role=compute}\necho {{ url }}\n```\n```sh {role=compute}\necho {{ a }}\n```\n"
    let (plan, problems) = try plan(text)
    #expect(plan.steps[0].renderings[0].body == "echo http://192.0.2.10:5000/v3\n")
    #expect(problems.count == 1)
    #expect(problems.first?.hasPrefix("r.md:12: error: in the value of 'a'") == true)
  }

  @Test func rawStepsAreNotRendered() throws {
    let (plan, problems) = try plan("```sh {role=controller raw}\necho {{ .Name }}\n```\n")
    #expect(problems.isEmpty)
    #expect(plan.steps[0].renderings[0].body == "echo {{ .Name }}\n")
  }

  @Test func badConnectionSettingsPointAtTheInventoryLine() throws {
    let inventory = "[web]\nw1 ansible_connection=docker\nw2 ansible_port=http\n"
    let (_, problems) = try plan("```sh {role=web}\ntrue\n```\n", inventory: inventory)
    #expect(
      problems == [
        "hosts:2: error: ansible_connection=docker of host 'w1' is not supported; runbook connects with local, ssh",
        "hosts:3: error: ansible_port of host 'w2' must be a port number, not 'http'",
      ])
  }
}

extension Array where Element == String {
  var hasErrorLine: Bool { contains { $0.contains(": error: ") } }
}
