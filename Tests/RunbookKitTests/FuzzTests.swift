import Foundation
import Testing

@testable import RunbookKit

/// A seeded mutation fuzzer for each parser that reads text from outside: the attribute
/// list, front matter, templates, INI and YAML inventories, and Python literals. Each input
/// is a seed mutated by byte edits and by splicing in tokens that matter to the parser
/// (brackets, quotes, anchors, ranges, huge numbers, deep nesting). A crash ends the test
/// process (so the run fails); an input that takes longer than `hangLimit` is reported.
///
/// CI runs `RUNBOOK_FUZZ_ITERATIONS` (default 2,000) inputs per parser with a fixed seed; a
/// longer run: `RUNBOOK_FUZZ_ITERATIONS=200000 RUNBOOK_FUZZ_SEED=7 swift test --filter Fuzz`.
@Suite struct FuzzTests {
  static let iterations =
    Int(ProcessInfo.processInfo.environment["RUNBOOK_FUZZ_ITERATIONS"] ?? "")
    ?? 2_000
  static let seed = UInt64(ProcessInfo.processInfo.environment["RUNBOOK_FUZZ_SEED"] ?? "") ?? 1
  static let hangLimit = 2.0

  /// SplitMix64: small, fast, and the same sequence for the same seed everywhere.
  struct Generator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
  }

  static let tokens = [
    "{", "}", "[", "]", "(", ")", "\"", "'", "\\", "=", ":", ",", " ", "\n", "\t", "\r", "\0",
    "{{", "}}", "{{ x }}", "{{ '}}' }}", "|", "&a ", "*a", "&a [x, x]", "- ", "? ", "!!str ",
    "---", "...", "#", "[0:99999999]", "[a:z]", "[1:9:0]", ":65536", ":99999999999999999999",
    "9223372036854775807", "-9223372036854775808", "1e999", "0x", "True", "None",
    "ansible_host=", "ansible_port=", "[g:children]", "[g:vars]", "role=", "timeout=",
    "\u{1B}[2J", "\u{202E}", "é", "😀", String(repeating: "[", count: 300),
    String(repeating: "{", count: 300), String(repeating: "a", count: 70_000),
  ]

  static func mutate(_ seed: String, _ rng: inout Generator) -> String {
    var bytes = Array(seed.utf8)
    for _ in 0..<Int.random(in: 1...8, using: &rng) {
      let at = bytes.isEmpty ? 0 : Int.random(in: 0...bytes.count, using: &rng)
      switch Int.random(in: 0..<6, using: &rng) {
      case 0: bytes.insert(contentsOf: tokens.randomElement(using: &rng)!.utf8, at: at)
      case 1 where at < bytes.count: bytes[at] = UInt8.random(in: 0...255, using: &rng)
      case 2 where at < bytes.count:
        bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...16, using: &rng)))
      case 3 where !bytes.isEmpty:
        // Repeat a slice: nesting and long runs.
        let from = Int.random(in: 0..<bytes.count, using: &rng)
        let slice = bytes[from..<min(bytes.count, from + Int.random(in: 1...64, using: &rng))]
        let times = Int.random(in: 1...64, using: &rng)
        bytes.insert(contentsOf: Array(repeatElement(slice, count: times).joined()), at: at)
      default: bytes.insert(contentsOf: tokens.randomElement(using: &rng)!.utf8, at: at)
      }
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// Runs `parse` on `iterations` mutated seeds; returns the slowest input's seconds.
  static func fuzz(
    _ name: String, seeds: [String], iterations: Int = iterations, parse: (String) -> Void
  ) -> Double {
    // Each parser its own sequence, the same in every run (hashValue is not stable).
    var rng = Generator(state: name.utf8.reduce(seed) { $0 &* 31 &+ UInt64($1) })
    var slowest = 0.0
    var slowestInput = ""
    let clock = ContinuousClock()
    let started = clock.now
    for i in 0..<iterations {
      let input = mutate(seeds[i % seeds.count], &rng)
      let begin = clock.now
      parse(input)
      let took = begin.duration(to: clock.now)
      let seconds = Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18
      if seconds > slowest {
        slowest = seconds
        slowestInput = input
      }
    }
    let total = started.duration(to: clock.now)
    print(
      "fuzz \(name): \(iterations) inputs, seed \(seed), no crash, slowest \(String(format: "%.1f", slowest * 1000)) ms, total \(total)"
    )
    if slowest >= hangLimit {
      // The whole input, to reproduce it: the message shows only its start.
      let path = NSTemporaryDirectory() + "runbook-fuzz-\(name).txt"
      try? Data(slowestInput.utf8).write(to: URL(fileURLWithPath: path))
      Issue.record(
        "\(name): an input took \(slowest) s (saved in \(path)): \(String(slowestInput.prefix(200)).debugDescription)"
      )
    }
    return slowest
  }

  @Test func attributeList() {
    _ = Self.fuzz(
      "attribute-list",
      seeds: [
        "sh {role=controller name=x timeout=90s}", "ini {role=db file=/etc/a.conf section=x}",
        "sql {role=db expect=\"a \\\"b\\\"\" retries=3 delay=1m30s}",
        "bash {role=a,b tags=x,y user='k' unless=\"test -f /x\" allow-fail serial}",
      ]
    ) { text in
      if let list = try? AttributeList.parse(info: text) {
        _ = StepAttributes.validate(list)
      }
    }
  }

  /// `runbook init` reads notes nobody wrote for it: whatever they hold, it converts them
  /// (or says why not) without crashing or hanging. A quarter of the inputs: each is a whole
  /// document, about 10 ms.
  @Test func notesForInit() {
    var converter = NotesConverter()
    converter.roleWords = [("web01", "web")]
    _ = Self.fuzz(
      "init-notes",
      seeds: [
        "# 环境：\n+ 控制节点：10.0.0.1\n+ 负载均衡器：10.0.0.2,10.0.0.3\n# 1. 安装（控制节点）：\n1. 编辑/etc/a.conf：\n    ```\n    [database]\n    connection = mysql+pymysql://k:pw@10.0.0.9/k\n    ```\n",
        "On web01:\n\n    $ sudo apt update\n\nYou should see:\n\n    done\n\n```\nmysql -uroot -p'x'\nMariaDB [(none)]> GRANT ALL ON k.* TO 'k'@'%' IDENTIFIED BY 'p';\n```\n",
        "---\ntitle: t\n---\n1. [keystone_authtoken]配置段：\n    ```\n    password = x\n    ```\n![s](u)\n",
      ], iterations: max(Self.iterations / 4, 1)
    ) { text in _ = converter.convert(text, file: "notes.md") }
  }

  @Test func frontMatter() {
    _ = Self.fuzz(
      "front-matter",
      seeds: [
        "title: T\nvars:\n  a: 1\n  b: \"{{ a }}\"\nsecrets: [pw]\nroles:\n  db: Database\n",
        "vars:\n  base: &b {x: 1, y: [1, 2]}\n  copy: *b\n",
      ]
    ) { text in _ = FrontMatter.parse(text, file: "f.md", firstLine: 2) }
  }

  @Test func template() {
    _ = Self.fuzz(
      "template",
      seeds: [
        "echo {{ name }} {{ map.key }} {{ list.0 }}", "{{ \"{{\" }}.State}} {{ '}}' }}",
        "mysql -e \"CREATE USER '{{ user }}'@'%' IDENTIFIED BY '{{ pw }}'\"",
      ]
    ) { text in _ = Template.parse(text).0.handQuotedReferences }
  }

  @Test func iniInventory() {
    _ = Self.fuzz(
      "ini-inventory",
      seeds: [
        "[web]\nweb[01:20] ansible_user=deploy\n[db]\ndb1 ansible_host=10.0.0.5 ansible_port=2222\n[all:vars]\nx=[1, {'a': (2, 3)}]\n",
        "[g:children]\nweb\n[web]\nh:2222 v=True w=0.5 s='str'\n",
      ]
    ) { text in _ = try? InventoryParser.parse(text, file: "hosts") }
  }

  @Test func yamlInventory() {
    _ = Self.fuzz(
      "yaml-inventory",
      seeds: [
        "all:\n  vars:\n    a: &v [1, 2]\n  children:\n    web:\n      hosts:\n        w[1:3]:\n          x: *v\n",
        "all:\n  hosts:\n    h1:\n      ansible_host: 127.0.0.1\n      ansible_port: 22\n",
      ]
    ) { text in _ = try? InventoryParser.parse(text, file: "hosts.yml") }
  }

  /// The planner and the export read an inventory and a runbook together: an inventory
  /// that leaves a role empty (an empty file, an empty group, a reversed range) met a step
  /// with a reference and crashed, though each parser alone was fine. Each input mutates
  /// one side of a pair; both are planned with and without `--allow-empty-roles`, and a
  /// plan without errors is exported.
  @Test func inventoryTimesRunbook() {
    let inventories = [
      "", "[db]\n", "[db]\nh[5:1]\n", "[db]\ndb1 ansible_host=127.0.0.2\n[web]\nw[1:3]\n",
      "all:\n  children:\n    db: {}\n    web:\n      hosts:\n        w1: {x: 1}\n",
      "[db]\ndb1 x=1\n[db:vars]\ny=2\n[web:children]\ndb\n",
    ]
    let runbooks = [
      "# T\n\n```sh {role=db}\necho {{ x }} {{ host.address }} {{ inventory_hostname }}\n```\n",
      "---\nvars:\n  x: '{{ roles.db.address }}'\nroles:\n  db: D\n  web: W\n---\n# A\n\n```sh {role=db,web capture=c}\necho {{ x }}\n```\n\n```ini {role=web file=/tmp/{{ y }}.ini section=s}\nk = {{ c }}\n```\n",
      "# R\n\n```sh {\"name\":\"x\"}\necho {{ roles.web.addresses }}\n```\n",
    ]
    var pairs: [String] = []
    for inventory in inventories {
      for runbook in runbooks { pairs.append(inventory + "\u{0}" + runbook) }
    }
    _ = Self.fuzz("inventory-x-runbook", seeds: pairs, iterations: max(Self.iterations / 4, 1)) {
      pair in
      let parts = pair.split(separator: "\u{0}", maxSplits: 1, omittingEmptySubsequences: false)
      let inventoryText = String(parts[0])
      let runbookText = parts.count > 1 ? String(parts[1]) : ""
      guard let inventory = try? InventoryParser.parse(inventoryText, file: "hosts") else { return }
      let (runbook, _) = Runbook.parse(runbookText, file: "r.md")
      for allowEmptyRoles in [false, true] {
        var options = PlanOptions()
        options.allowEmptyRoles = allowEmptyRoles
        options.variables = ["y": .string("v")]
        let (plan, problems) = Planner.plan(runbook, inventory: inventory, options: options)
        guard !problems.hasErrors else { continue }
        _ = plan.text()
        _ = AnsibleExport.make(
          plan: plan, runbookFile: "r.md", runbookText: runbookText,
          inventory: (name: "hosts", text: inventoryText))
      }
    }
  }

  @Test func pythonLiteral() {
    _ = Self.fuzz(
      "python-literal",
      seeds: [
        "[1, 2.5, 'a', \"b\", None, True, {'k': (1, 2)}]", "-12", "'con' \"cat\"", "{1: [[[]]]}",
      ]
    ) { text in _ = PythonLiteral.evaluate(text) }
  }
}
