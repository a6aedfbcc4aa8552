/// Which steps run where, with every template rendered whose inputs are known.
public struct Plan: Sendable {
  /// The runbook the plan is for.
  public var runbook: Runbook
  /// The inventory file, or `nil` for the embedded default (every role on this machine).
  public var inventorySource: String?
  /// Every host a step targets, in inventory order.
  public var hosts: [PlanHost]
  /// The steps in document order.
  public var steps: [PlannedStep]
  /// Names of secret variables.
  public var secretNames: [String]
  /// Secrets that have no value yet and must be supplied (prompted for) before a run.
  public var missingSecrets: [String]
  /// Hides secret values in anything the plan prints.
  public var masker: SecretMasker
  /// Variables shared by every host (front matter, `--vars-file`, `--var`), for the audit
  /// header; secret values are masked by whoever prints them.
  public var globalVariables: [String: Value]
}

/// How runbook reaches a host.
public enum Connection: String, Sendable, Hashable, Codable {
  /// Commands run through `/bin/sh` on this machine.
  case local
  /// Commands run through the system OpenSSH client.
  case ssh
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

/// A step's text fields after variable substitution on one or more hosts.
public struct RenderedStep: Sendable, Hashable {
  /// The block's content.
  public var body: String
  /// The rendered `file=`.
  public var file: String?
  /// The rendered `creates=`.
  public var creates: String?
  /// The rendered `unless=`.
  public var unless: String?
  /// The rendered `expect=`.
  public var expect: String?
  /// The rendered `user=`.
  public var user: String?
  /// The rendered `owner=`.
  public var owner: String?
  /// The rendered `client=`.
  public var client: String?
  /// Captured variables the text still refers to; they are filled in at run time.
  public var pending: [String]

  /// Creates a rendering.
  public init(
    body: String, file: String? = nil, creates: String? = nil, unless: String? = nil,
    expect: String? = nil, user: String? = nil, owner: String? = nil, client: String? = nil,
    pending: [String] = []
  ) {
    self.body = body
    self.file = file
    self.creates = creates
    self.unless = unless
    self.expect = expect
    self.user = user
    self.owner = owner
    self.client = client
    self.pending = pending
  }

  /// Every field with `transform` applied (used to mask secrets).
  public func map(_ transform: (String) -> String) -> RenderedStep {
    RenderedStep(
      body: transform(body), file: file.map(transform), creates: creates.map(transform),
      unless: unless.map(transform), expect: expect.map(transform), user: user.map(transform),
      owner: owner.map(transform), client: client.map(transform), pending: pending)
  }
}

/// A step with its hosts and renderings; hosts that render identically share one.
public struct PlannedStep: Sendable {
  /// The runbook step.
  public var step: Step
  /// Names of the hosts the step runs on, in order.
  public var hosts: [String]
  /// Each distinct rendering and the hosts that get it, in host order of first use.
  public var renderings: [(hosts: [String], rendered: RenderedStep)]

  /// The rendering `host` gets.
  public func rendered(for host: String) -> RenderedStep? {
    renderings.first { $0.hosts.contains(host) }?.rendered
  }
}
