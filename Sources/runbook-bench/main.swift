import Foundation
import RunbookKit

// Benchmarks that print numbers (not tests):
//   runbook-bench [steps] [hosts]        parse + check + plan of a generated runbook with
//                                        10,000 steps over 500 hosts
//   runbook-bench reports [steps] [hosts] render every report of a generated journal of
//                                        10,000 steps × 4 hosts with 1 KB of output each
// Each prints wall time per stage and peak resident memory.

if CommandLine.arguments.dropFirst().first == "reports" {
  try await reportsBenchmark()
  exit(0)
}

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let stepCount = arguments.first ?? 10_000
let hostCount = arguments.dropFirst().first ?? 500

func generateInventory(hosts: Int) -> String {
  let controllers = 3
  let lbs = 2
  let dbs = 15
  let computes = max(1, hosts - controllers - lbs - dbs)
  var text = "[controller]\n"
  for i in 1...controllers { text += "ctl\(i) ansible_host=127.0.1.\(i)\n" }
  text += "\n[compute]\ncompute[001:\(String(format: "%03d", computes))] nic=eth1\n"
  text += "\n[lb]\n"
  for i in 1...lbs { text += "lb\(i) ansible_host=127.0.2.\(i) priority=\(100 - i)\n" }
  text += "\n[db]\n"
  for i in 1...dbs { text += "db\(i) ansible_host=127.0.3.\(i)\n" }
  text += "\n[openstack:children]\ncontroller\ncompute\nlb\ndb\n"
  text += "\n[all:vars]\nregion=RegionOne\nvip=127.0.0.100\n"
  return text
}

func generateRunbook(steps: Int) -> String {
  var text = """
    ---
    title: Generated benchmark runbook
    vars:
      keystone_url: "http://{{ vip }}:5000/v3"
      release: ocata
    secrets: [db_password]
    ---

    """
  text += "\n"
  let roles = [
    "compute", "controller", "compute", "db", "controller", "lb", "compute", "controller", "db",
    "compute",
  ]
  for i in 0..<steps {
    if i % 25 == 0 {
      text +=
        "## Section \(i / 25)\n\nProse explaining the next steps, with `code` and a [link](https://example.com).\n\n"
    }
    let role = roles[i % roles.count]
    switch i % 10 {
    case 0:
      text +=
        "1. Configure the service:\n    ```ini {role=\(role) file=/etc/svc\(i).conf section=DEFAULT}\n    auth_url = {{ keystone_url }}\n    region = {{ region }}\n    ```\n\n"
    case 3:
      text +=
        "```sql {role=db}\nMariaDB [(none)]> GRANT ALL ON svc\(i).* TO 'svc'@'%' IDENTIFIED BY '{{ db_password }}';\n```\n\n"
    case 6:
      text +=
        "```sh {role=\(role)}\nip addr show {{ nic }} | grep {{ host.address }}\n```\n\n![output](shot\(i).png)\n\n"
    default:
      text +=
        "```sh {role=\(role) timeout=90s}\nyum install -y openstack-\(i) # {{ release }}\nsystemctl enable --now svc\(i)\n```\n\n"
    }
  }
  return text
}

func peakResidentMB() -> Double {
  guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
    let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
  else { return .nan }
  let kb = Double(line.split(separator: " ").dropFirst().first ?? "") ?? .nan
  return kb / 1024
}

func time<T>(_ body: () throws -> T) rethrows -> (T, Double) {
  let start = ContinuousClock.now
  let value = try body()
  let elapsed = ContinuousClock.now - start
  return (value, elapsed.seconds * 1000)
}

let dir = FileManager.default.temporaryDirectory.appendingPathComponent("runbook-bench-\(getpid())")
try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: dir) }
let runbookPath = dir.appendingPathComponent("generated.md").path
let inventoryPath = dir.appendingPathComponent("generated.hosts").path
try generateRunbook(steps: stepCount).write(toFile: runbookPath, atomically: true, encoding: .utf8)
try generateInventory(hosts: hostCount).write(
  toFile: inventoryPath, atomically: true, encoding: .utf8)
let size = (try FileManager.default.attributesOfItem(atPath: runbookPath)[.size] as? Int) ?? 0

if CommandLine.arguments.contains("--parse-detail") {
  let text = try String(contentsOfFile: runbookPath, encoding: .utf8)
  let (source, sMS) = time { SourceText(text) }
  let (doc, cMS) = time { MarkdownParser.parse(source.markdown) }
  let (_, rMS) = time { Runbook.parse(text, file: "x") }
  print(
    String(
      format: "sourcetext %.1f ms, cmark+walk %.1f ms (%d blocks), full parse %.1f ms", sMS, cMS,
      doc.blocks.count, rMS))
}
let baseline = peakResidentMB()
let totalStart = ContinuousClock.now
let ((runbook, parseProblems), parseMS) = try time { try Runbook.load(path: runbookPath) }
let (inventory, inventoryMS) = try time { try InventoryParser.load(path: inventoryPath) }
var options = PlanOptions()
options.variables["db_password"] = .string("bench-secret")
let ((plan, planProblems), planMS) = time {
  Planner.plan(runbook, inventory: inventory, options: options)
}
let totalMS = (ContinuousClock.now - totalStart).seconds * 1000
let peak = peakResidentMB()

let problems = (parseProblems + planProblems).filter { $0.severity == .error }
let targets = plan.steps.reduce(0) { $0 + $1.hosts.count }
let renderings = plan.steps.reduce(0) { $0 + $1.distinctRenderings }

print("runbook front-half benchmark")
print(
  String(
    format: "input: %d steps (%.1f MB of Markdown), %d hosts", runbook.steps.count,
    Double(size) / 1_048_576, inventory.hostOrder.count))
print(
  String(
    format: "plan: %d step×host targets, %d distinct renderings, %d errors", targets, renderings,
    problems.count))
print("stage            wall ms")
print(String(format: "parse (cmark)    %8.1f", parseMS))
print(String(format: "inventory        %8.1f", inventoryMS))
print(String(format: "check + plan     %8.1f", planMS))
print(String(format: "total            %8.1f   (target < 300)", totalMS))
print(
  String(format: "peak RSS MB      %8.1f   (target < 200; %.1f before loading)", peak, baseline))
if !problems.isEmpty {
  print("unexpected problems:")
  for p in problems.prefix(5) { print("  \(p)") }
  exit(1)
}

// One step over many hosts, each rendering it differently: plan, `plan` text and JSON. The
// output's cost grows with the hosts, never with their square (10,000 hosts once took 37 s
// and 20,000 never ended: each rendering group asked for every group again).
print("\nwide plan: 1 step, every host its own rendering")
print("hosts      plan ms   text ms   json ms")
for hosts in [10_000, 20_000] {
  var wide = "[web]\n"
  for i in 0..<hosts {
    wide += "w\(i) ansible_host=10.\(i / 62_500).\(i / 250 % 250).\(i % 250) x=\(i)\n"
  }
  let wideInventory = try InventoryParser.parse(wide, file: "wide.ini")
  let (wideRunbook, _) = Runbook.parse(
    "```sh {role=web}\necho {{ x }} {{ host.address }}\n```\n", file: "wide.md")
  let ((widePlan, _), wPlanMS) = time { Planner.plan(wideRunbook, inventory: wideInventory) }
  let (_, textMS) = time { widePlan.text() }
  let (_, jsonMS) = time { widePlan.json() }
  print(String(format: "%6d  %8.1f  %8.1f  %8.1f", hosts, wPlanMS, textMS, jsonMS))
}

// Generated inputs that once took seconds to check: each must stay far below 2 s.
print("\ngenerated inputs     check ms")
let generated: [(String, String)] = [
  // The quote check counted the line again at each reference (40,000 took 8 s).
  (
    "40,000 refs, 1 line",
    "```sh {role=local}\n" + String(repeating: "'{{ x }} ", count: 40_000) + "\n```\n"
  ),
  (
    "20,000 headings",
    (0..<20_000).map { "# h\($0)\n\n```sh {role=local}\necho \($0)\n```\n\n" }.joined()
  ),
  (
    "3,000 nested items",
    (0..<3_000).map { String(repeating: "  ", count: $0) + "- item\n" }.joined()
      + "```sh {role=local}\ntrue\n```\n"
  ),
]
for (label, text) in generated {
  var options = PlanOptions()
  options.variables["x"] = .string("1")
  let (_, ms) = time {
    let (book, _) = Runbook.parse(text, file: "generated.md")
    return Planner.plan(book, inventory: nil, options: options)
  }
  print(label.padding(toLength: 22, withPad: " ", startingAt: 0) + String(format: "%8.1f", ms))
}
