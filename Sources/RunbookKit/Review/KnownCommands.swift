/// Commands that cannot run unattended as written, each with what to write instead: the
/// one table `check`'s review and `runbook init` read.
enum KnownCommands {
  /// A command of a step's line, with its arguments (prompts, `sudo` and variable
  /// assignments before it taken off).
  struct Invocation {
    /// The program's name, without its directory.
    var program: String
    /// Its arguments.
    var arguments: [String]
    /// The line ends in `&`: the command runs in the background.
    var background: Bool

    /// The command as written, for messages, with the template expressions `invocations`
    /// stood in for put back.
    func text(with templates: [String] = []) -> String {
      var text = ([program] + arguments).joined(separator: " ")
      for (index, expression) in templates.enumerated().reversed() {
        text = text.replacingOccurrences(of: KnownCommands.templateMark(index), with: expression)
      }
      return text
    }

    /// Whether any argument is one of `flags`, or a cluster of short options holding one
    /// of `letters` (`-qy`).
    func has(_ flags: Set<String>, letters: Set<Character> = []) -> Bool {
      arguments.contains { argument in
        flags.contains(argument)
          || flags.contains { $0.hasPrefix("--") && argument.hasPrefix($0 + "=") }
          || (argument.hasPrefix("-") && !argument.hasPrefix("--") && argument.count > 1
            && argument.dropFirst().contains { letters.contains($0) })
      }
    }
  }

  /// Why a command cannot run unattended, and the fix.
  struct Finding: Equatable {
    /// What kind of wait it is.
    enum Wait: Equatable {
      /// An editor or a pager: a person at a terminal, always.
      case person
      /// It never ends by itself: a step with `timeout=` is allowed it.
      case forever
      /// It asks a question a flag answers, or a person.
      case question
    }

    /// What kind of wait it is.
    var wait: Wait
    /// What the command does, after its quoted text (`opens an editor, …`).
    var reason: String
    /// What to write instead.
    var fix: String
  }

  /// Programs that edit a file at a terminal.
  static let editors: Set<String> = [
    "nano", "vi", "vim", "nvim", "view", "emacs", "pico", "joe", "mcedit", "gedit", "visudo",
    "vipw", "sudoedit",
  ]
  /// Programs that page through text at a terminal.
  static let pagers: Set<String> = ["less", "more", "most"]

  /// What is wrong with `command`, if anything.
  static func finding(_ command: Invocation) -> Finding? {
    let program = command.program
    if editors.contains(program) || (program == "crontab" && command.has(["-e"]))
      || (program == "systemctl" && command.arguments.first == "edit")
    {
      return Finding(
        wait: .person, reason: "opens an editor, which waits for a person",
        fix: "write the file's content as a file or ini step")
    }
    if pagers.contains(program) {
      return Finding(
        wait: .person, reason: "opens a pager, which waits for a person", fix: "use cat, or | head")
    }
    if let never = neverEnding(command) { return never }
    if let install = interactiveInstall(command) { return install }
    return prompting(command)
  }

  /// Follow modes, monitors and servers in the foreground.
  private static func neverEnding(_ command: Invocation) -> Finding? {
    let follows =
      (["tail", "journalctl"].contains(command.program)
        && command.has(
          ["-f", "-F", "--follow"], letters: command.program == "tail" ? ["f", "F"] : []))
      || ["watch", "top", "htop"].contains(command.program)
    if follows {
      return Finding(
        wait: .forever, reason: "never ends by itself",
        fix: "drop the follow option (tail -n 50, journalctl -n 50), or give the step timeout=")
    }
    guard !command.background else { return nil }
    let server =
      (command.arguments.contains("runserver")
        && command.arguments.contains { $0.hasSuffix("manage.py") })
      || (command.program == "gunicorn" && !command.has(["--daemon", "-D"]))
      || (["uvicorn", "hypercorn"].contains(command.program))
      || (command.program == "flask" && command.arguments.first == "run")
      || (["npm", "yarn"].contains(command.program) && command.arguments.first == "start")
      || (command.program == "rails" && ["server", "s"].contains(command.arguments.first ?? ""))
      || (command.arguments.starts(with: ["-m", "http.server"]))
    guard server else { return nil }
    return Finding(
      wait: .forever, reason: "serves in the foreground and never returns",
      fix: "start it as a service (systemctl start …), or in the background (nohup … &)")
  }

  /// Package installs that wait for a yes.
  private static func interactiveInstall(_ command: Invocation) -> Finding? {
    let verbs: Set<String> = [
      "install", "upgrade", "remove", "purge", "dist-upgrade", "full-upgrade", "autoremove",
      "update", "erase", "reinstall", "in", "up", "rm",
    ]
    guard let verb = command.arguments.first(where: { !$0.hasPrefix("-") }), verbs.contains(verb)
    else { return nil }
    let asks: Bool
    let flag: String
    switch command.program {
    case "apt", "apt-get", "aptitude":
      asks = verb != "update" && !command.has(["--yes", "--assume-yes"], letters: ["y"])
      flag = "-y"
    case "yum", "dnf":
      asks = !command.has(["--assumeyes"], letters: ["y"])
      flag = "-y"
    case "zypper":
      asks = !command.has(["--non-interactive", "-n"])
      flag = "--non-interactive"
    default:
      return nil
    }
    guard asks else { return nil }
    return Finding(
      wait: .question, reason: "asks for a yes before it changes anything", fix: "add \(flag)")
  }

  /// Commands known to prompt.
  private static func prompting(_ command: Invocation) -> Finding? {
    let program = command.program
    let asks: String?
    switch program {
    case "passwd" where !command.has(["--stdin", "-l", "-u", "-d", "-e", "-S"]):
      asks = "set the password with chpasswd, reading it from standard input"
    case "mysql_secure_installation", "mariadb-secure-installation":
      asks = "run the SQL it would run (ALTER USER, DROP DATABASE test…) as a sql step"
    case "ssh-keygen" where !command.has(["-N", "-y", "-l", "-R", "-F", "-lf"]):
      asks = "add -N '' (or a passphrase) and -f FILE"
    case "adduser" where !command.has(["--disabled-password", "--disabled-login", "--system"]):
      asks = "add --disabled-password --gecos '' (or use useradd)"
    case "ssh-copy-id":
      asks = "append the key to authorized_keys with a file or append step"
    case "su" where !command.has(["-c", "--command"]):
      asks = "give the step user= (or su -c 'command')"
    default:
      if command.arguments.contains("createsuperuser"), !command.has(["--noinput", "--no-input"]) {
        asks =
          "add --noinput with DJANGO_SUPERUSER_USERNAME, _EMAIL and _PASSWORD in the step's env (without a terminal it prints 'skipped' and does nothing)"
      } else if ["mysql", "mariadb", "mysqladmin", "mysqldump"].contains(program),
        command.arguments.contains("-p")
      {
        asks = "drop -p: pass the password in MYSQL_PWD, or use the socket's root login"
      } else {
        asks = nil
      }
    }
    return asks.map {
      Finding(
        wait: .question, reason: "asks a person at a terminal", fix: $0)
    }
  }

  /// The variable a program reads its password from, for a secret it was given as an
  /// argument (visible in `ps` to every user of the host while it runs) as the value of
  /// `option`. `openstack` reads only its own login's password so.
  static func passwordVariable(of program: String, option: String?) -> String? {
    if program == "openstack", option != "--os-password" { return nil }
    return [
      "mysql": "MYSQL_PWD", "mariadb": "MYSQL_PWD", "mysqladmin": "MYSQL_PWD",
      "mysqldump": "MYSQL_PWD", "openstack": "OS_PASSWORD",
      "keystone-manage": "OS_BOOTSTRAP_PASSWORD", "psql": "PGPASSWORD", "pg_dump": "PGPASSWORD",
      "redis-cli": "REDISCLI_AUTH", "sshpass": "SSHPASS (sshpass -e)",
    ][program]
  }
}
