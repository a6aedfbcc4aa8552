/// Which steps run where, with every template rendered whose inputs are known.
public struct Plan: Sendable {
  /// The runbook the plan is for.
  public var runbook: Runbook
  /// The inventory file, or `nil` for the embedded default (every role on this machine).
  public var inventorySource: String?
  /// The inventory itself (for `--limit`), `nil` for the embedded default.
  public var inventory: Inventory?
  /// Every host a step targets, in inventory order.
  public var hosts: [PlanHost]
  /// The steps in document order.
  public var steps: [PlannedStep]
  /// Names of secret variables.
  public var secretNames: [String]
  /// Secrets that have no value yet and must be supplied (prompted for) before a run.
  public var missingSecrets: [String]
  /// Values Runme blocks ask for (`export NAME=question`) that nothing sets: supplied with
  /// `--var`, or asked for when a run starts.
  public var askedVariables: [PromptedVariable] = []
  /// Hides secret values in anything the plan prints.
  public var masker: SecretMasker
  /// Variables shared by every host (front matter, `--vars-file`, `--var`), for the audit
  /// header; secret values are masked by whoever prints them.
  public var globalVariables: [String: Value]
  /// Each shared variable as the steps use it: templates rendered (on the first host when
  /// the value is the same on all), or a note when it differs by host or comes at run
  /// time. Unmasked.
  public var variableValues: [String: String] = [:]
}

/// How runbook reaches a host: the name of a transport (`TransportRegistry`).
public struct Connection: RawRepresentable, Sendable, Hashable, Codable {
  /// The name, as `ansible_connection` writes it.
  public let rawValue: String

  /// Creates a connection name.
  public init(rawValue: String) { self.rawValue = rawValue }

  /// Commands run through `/bin/sh` on this machine.
  public static let local = Connection(rawValue: "local")
  /// Commands run through the system OpenSSH client.
  public static let ssh = Connection(rawValue: "ssh")
}

/// A host with the connection settings its inventory variables give it.
public struct PlanHost: Sendable, Hashable {
  /// The inventory name.
  public var name: String
  /// Where to connect: `ansible_host`, or the name.
  public var address: String
  /// `ansible_port`, when set.
  public var port: Int?
  /// `ansible_user`, when set.
  public var user: String?
  /// `ansible_connection`: local or ssh.
  public var connection: Connection
  /// `ansible_ssh_private_key_file`, when set.
  public var privateKeyFile: String?
  /// `ansible_become`: run every step through sudo.
  public var become: Bool
  /// `ansible_become_password` (or `--become-password-file`): what `sudo -S` reads on its
  /// standard input when the host's sudo asks for a password. Secret: it is only ever
  /// written to a process's standard input, never to an argument, a log or a report.
  public var becomePassword: String?

  /// Creates a host record.
  public init(
    name: String, address: String, port: Int? = nil, user: String? = nil,
    connection: Connection, privateKeyFile: String? = nil, become: Bool = false
  ) {
    self.name = name
    self.address = address
    self.port = port
    self.user = user
    self.connection = connection
    self.privateKeyFile = privateKeyFile
    self.become = become
  }
}

/// The attributes of a step whose text is rendered like the body.
public enum StepField: String, Sendable, Hashable, CaseIterable {
  /// `file=`
  case file
  /// `owner=`
  case owner
  /// `creates=`
  case creates
  /// `unless=`
  case unless
  /// `expect=`
  case expect
  /// `user=`
  case user
  /// `client=`
  case client
  /// `cwd=`
  case cwd
  /// The step's environment: front matter `env` and `env=`, one `NAME=value` a line.
  case env
}

/// A step's text after variable substitution on one or more hosts.
public struct RenderedStep: Sendable, Hashable {
  /// The block's content.
  public var body: String
  /// The rendered attributes the step has (most steps have none).
  public var fields: [StepField: String]
  /// Captured variables the text still refers to; they are filled in at run time.
  public var pending: [String]

  /// Creates a rendering.
  public init(body: String, fields: [StepField: String] = [:], pending: [String] = []) {
    self.body = body
    self.fields = fields
    self.pending = pending
  }

  /// The rendered `file=`.
  public var file: String? { fields[.file] }

  /// Every text with `transform` applied (used to mask secrets).
  public func map(_ transform: (String) -> String) -> RenderedStep {
    RenderedStep(body: transform(body), fields: fields.mapValues(transform), pending: pending)
  }
}

/// A step with its hosts and the texts they get.
///
/// Texts are kept as templates with every reference resolved per host, and rendered when
/// asked for: a step on hundreds of hosts with a host-specific value would otherwise hold
/// hundreds of near-identical scripts in memory.
public struct PlannedStep: Sendable {
  /// The runbook step.
  public var step: Step
  /// Names of the hosts the step runs on, in order.
  public var hosts: [String]
  let texts: StepTexts

  /// How many different texts the hosts get (1 when nothing in the step varies by host).
  public var distinctRenderings: Int { texts.groupCount }

  /// The rendering of the host at `position` in `hosts` (or of the operator's machine when
  /// the step has no hosts).
  public func rendered(at position: Int) -> RenderedStep {
    texts.render(position: hosts.isEmpty ? 0 : position, captured: [:])
  }

  /// The rendering of the host at `position` with the values earlier steps captured
  /// filled in; names not in `captured` stay as written.
  public func rendered(at position: Int, captured: [String: String]) -> RenderedStep {
    texts.render(position: hosts.isEmpty ? 0 : position, captured: captured)
  }

  /// The rendering `host` gets.
  public func rendered(for host: String) -> RenderedStep? {
    hosts.firstIndex(of: host).map(rendered(at:))
  }

  /// The rendering of the host at `position` for a template engine that fills in at run
  /// time what the plan cannot know: literal text (values known now included) goes through
  /// `literal`, and `runtime` gives the engine's expression for a captured, secret or asked
  /// value.
  /// A secret in `secrets` is always left to `runtime`, even when the plan has its value.
  public func rendered(
    at position: Int, secrets: Set<String>, literal: (String) -> String,
    runtime: (_ name: String, _ filters: [Template.Filter]) -> String
  ) -> RenderedStep {
    texts.render(
      position: hosts.isEmpty ? 0 : position, secrets: secrets, literal: literal, runtime: runtime)
  }

  /// Each distinct rendering, in order of first use.
  public var renderings: [RenderedStep] { groups.map(\.rendered) }

  /// Each distinct rendering with the hosts that get it.
  public var groups: [(hosts: [String], rendered: RenderedStep)] {
    guard !hosts.isEmpty else { return [([], rendered(at: 0))] }
    var first: [Int] = []
    var hostsOf: [[String]] = Array(repeating: [], count: texts.groupCount)
    for (position, host) in hosts.enumerated() {
      let group = Int(texts.groupOfHost[position])
      if hostsOf[group].isEmpty { first.append(position) }
      hostsOf[group].append(host)
    }
    return first.map { position in
      (hostsOf[Int(texts.groupOfHost[position])], rendered(at: position))
    }
  }
}

/// The resolved pieces of a step's texts: templates, and for each reference either one
/// outcome for all hosts or a column with one per host.
struct StepTexts: Sendable {
  enum Slot: Sendable {
    case fixed(VariableScope.Outcome)
    case column(Int)
  }

  var fields: [(key: StepField?, template: Template)]
  var slots: [[Slot]]
  var columns: [[VariableScope.Outcome]]
  /// For each host position, which distinct rendering it gets.
  var groupOfHost: [Int32]
  var groupCount: Int

  func render(
    position: Int, secrets: Set<String>, literal: (String) -> String,
    runtime: (_ name: String, _ filters: [Template.Filter]) -> String
  ) -> RenderedStep {
    var rendered = RenderedStep(body: "")
    for (field, fieldSlots) in zip(fields, slots) {
      let text = field.template.render(literal: literal) { ordinal, reference in
        let outcome: VariableScope.Outcome
        switch fieldSlots[ordinal] {
        case .fixed(let fixed): outcome = fixed
        case .column(let column): outcome = columns[column][position]
        }
        if secrets.contains(reference.path[0]) {
          return runtime(reference.path[0], reference.filters)
        }
        switch outcome {
        case .text(let t): return literal(reference.encode(t))
        case .askedAtRunTime(let name), .askedValue(let name), .pending(let name):
          return runtime(name, reference.filters)
        case .failure: return literal(reference.written)
        }
      }
      if let key = field.key { rendered.fields[key] = text } else { rendered.body = text }
    }
    return rendered
  }

  func render(position: Int, captured: [String: String]) -> RenderedStep {
    var pending: [String] = []
    var rendered = RenderedStep(body: "")
    for (field, fieldSlots) in zip(fields, slots) {
      let text = field.template.renderByPosition { ordinal in
        let outcome: VariableScope.Outcome
        switch fieldSlots[ordinal] {
        case .fixed(let fixed): outcome = fixed
        case .column(let column): outcome = columns[column][position]
        }
        switch outcome {
        case .text(let t): return t
        case .askedAtRunTime: return SecretMasker.mask
        case .askedValue(let name): return "{{ \(name) }}"
        case .pending(let name):
          if let value = captured[name] { return value }
          if !pending.contains(name) { pending.append(name) }
          return nil
        case .failure: return nil
        }
      }
      if let key = field.key { rendered.fields[key] = text } else { rendered.body = text }
    }
    rendered.pending = pending
    return rendered
  }
}
