import Crypto
import Foundation

/// What a step changed in its host's session, as the journal keeps it (see `ShellState`).
/// A value that holds a secret (a known one, or one whose name says it is a secret) is
/// masked for reading, and kept for `--resume` only sealed with the run's key, which lives
/// outside the run directory.
public struct SessionRecord: Codable, Sendable, Equatable {
  /// The user whose session it is; nil for the host's login user.
  public var user: String?
  /// The new working directory.
  public var cwd: SessionValue?
  /// Variables set or changed.
  public var set: [String: SessionValue]?
  /// Variables unset.
  public var unset: [String]?
  /// Functions defined or redefined.
  public var functions: [String: SessionValue]?
  /// Functions removed.
  public var removedFunctions: [String]?

  /// The record of `change` in `user`'s session, made to `previous` when it is known;
  /// `secret` says which names hold secrets whatever their value.
  init(
    _ change: ShellStateChange, from previous: ShellState?, user: String?, masker: SecretMasker,
    key: RunKey, secret: (String) -> Bool
  ) {
    self.user = user
    func value(_ text: String, name: String?, exported: Bool? = nil, declaration: String? = nil)
      -> SessionValue
    {
      let plain = ShellVariable(text, exported: exported ?? false, declaration: declaration)
      let isSecret =
        name.map(secret) == true || masker.mask(text) != text
        || declaration.map { masker.mask($0) != $0 } == true
      guard isSecret else {
        return SessionValue(text: text, exported: exported, declaration: declaration)
      }
      let shown = name.map(secret) == true ? SecretMasker.mask : masker.mask(text)
      return SessionValue(
        text: shown, exported: exported, declaration: declaration.map { _ in SecretMasker.mask },
        sealed: key.seal(plain))
    }
    cwd = change.cwd.map { value($0, name: nil) }
    var set: [String: SessionValue] = [:]
    for (name, variable) in change.set {
      set[name] = value(
        variable.value, name: name, exported: variable.exported, declaration: variable.declaration)
      set[name]?.isNew = previous.map { $0.variables[name] == nil }
    }
    self.set = set.isEmpty ? nil : set
    unset = change.unset.isEmpty ? nil : change.unset.sorted()
    let functions = change.functions.mapValues { value($0, name: nil) }
    self.functions = functions.isEmpty ? nil : functions
    removedFunctions = change.removedFunctions.isEmpty ? nil : change.removedFunctions.sorted()
  }

  /// The change again, for `--resume`, with the names whose sealed value `key` cannot open
  /// (the key of another machine): those are left out.
  func change(key: RunKey) -> (change: ShellStateChange, lost: [String]) {
    var change = ShellStateChange()
    var lost: [String] = []
    if let cwd {
      if let open = cwd.variable(key: key) { change.cwd = open.value } else { lost.append("cwd") }
    }
    for (name, value) in set ?? [:] {
      if let open = value.variable(key: key) { change.set[name] = open } else { lost.append(name) }
    }
    change.unset = Set(unset ?? [])
    for (name, value) in functions ?? [:] {
      if let open = value.variable(key: key) {
        change.functions[name] = open.value
      } else {
        lost.append(name + "()")
      }
    }
    change.removedFunctions = Set(removedFunctions ?? [])
    return (change, lost.sorted())
  }

  /// A line per change, as reports show it: `cwd → /srv/app`, `+VIRTUAL_ENV`, `~PATH`,
  /// `-OLD`, `+activate()`. The directory is the host's text: its control characters are
  /// shown, never sent, since the line reaches the operator's terminal.
  public var summary: [String] {
    var lines: [String] = []
    if let cwd { lines.append("cwd → \(TerminalText.visible(cwd.text))") }
    for (name, value) in (set ?? [:]).sorted(by: { $0.key < $1.key }) {
      lines.append((value.isNew == false ? "~" : "+") + name)
    }
    lines += (unset ?? []).map { "-" + $0 }
    lines += (functions ?? [:]).keys.sorted().map { "+\(TerminalText.visible($0))()" }
    lines += (removedFunctions ?? []).map { "-\($0)()" }
    return lines
  }

  /// The changes on one line, as the terminal and the Markdown report show them:
  /// `session: cwd → /srv/app, +VIRTUAL_ENV, ~PATH`.
  public var line: String {
    (whose.map { "session of \($0)" } ?? "session") + ": " + summary.joined(separator: ", ")
  }

  /// The user whose session it is, as the operator names it: `become`'s is root's.
  public var whose: String? { user == "-" ? "root" : user }
}

/// One value of a session's record.
public struct SessionValue: Codable, Sendable, Equatable {
  /// The value, masked where it holds a secret.
  public var text: String
  /// Whether the variable is exported.
  public var exported: Bool?
  /// An array's declaration (masked where it holds a secret).
  public var declaration: String?
  /// The whole variable sealed with the run's key, when it holds a secret.
  public var sealed: String?
  /// Whether the name was new to the session (`+`) or changed (`~`); nil when not known.
  public var isNew: Bool?

  /// The variable this value stands for; nil when it is sealed with another key.
  func variable(key: RunKey) -> ShellVariable? {
    guard let sealed else {
      return ShellVariable(text, exported: exported ?? false, declaration: declaration)
    }
    return key.unseal(sealed)
  }
}

extension RunKey {
  /// The key that seals session values: derived, so that it is never the key of the hashes.
  private var sealingKey: SymmetricKey {
    HKDF<SHA256>.deriveKey(
      inputKeyMaterial: SymmetricKey(data: bytes), info: Data("runbook session values".utf8),
      outputByteCount: 32)
  }

  /// `variable` encrypted and authenticated (AES-GCM), base64.
  func seal(_ variable: ShellVariable) -> String {
    let data = (try? JSONEncoder().encode(variable)) ?? Data()
    let box = try? AES.GCM.seal(data, using: sealingKey)
    return box?.combined?.base64EncodedString() ?? ""
  }

  /// What `seal` sealed; nil for another key's seal or a damaged one.
  func unseal(_ sealed: String) -> ShellVariable? {
    guard let data = Data(base64Encoded: sealed), let box = try? AES.GCM.SealedBox(combined: data),
      let plain = try? AES.GCM.open(box, using: sealingKey)
    else { return nil }
    return try? JSONDecoder().decode(ShellVariable.self, from: plain)
  }
}
