import Foundation
import Testing

@testable import RunbookKit

/// `runbook init` on small notes, one rule at a time.
@Suite struct NotesConverterTests {
  func convert(_ notes: String, words: [(String, String)] = []) -> NotesConverter.Result {
    var converter = NotesConverter()
    converter.roleWords = words.map { (word: $0.0, role: $0.1) }
    return converter.convert(notes, file: "notes.md")
  }

  static let notes = """
    # Environment
    + 控制节点：10.0.0.11
    + 负载均衡器：10.0.0.60,10.0.0.61
    + 数据库节点：10.0.0.40

    # 1. 安装数据库（数据库节点）：
    1. 安装软件包：
        ```
        yum install mariadb-server -y
        ```
    2. 编辑/etc/my.cnf.d/openstack.cnf：
        ```sh
        [mysqld]
        bind-address = 10.0.0.40
        ```
    3. 创建用户：
        ```
        mysql -uroot -p
        MariaDB [(none)]> GRANT ALL ON keystone.* TO 'keystone'@'%' IDENTIFIED BY 'k3y';
        ```
        ![granted](https://example.org/granted.png)

    # 2. 配置keepalived（负载均衡器）：
        virtual_ipaddress {
            10.0.0.240
        }

    # 3. 配置keystone（控制节点）：
    ```
    connection = mysql+pymysql://keystone:k3y@10.0.0.240/keystone
    ```
    ```
    [root@controller ~]# keystone-manage db_sync
    ```

    # 4. Somewhere
    ```
    echo where
    ```
    """

  /// A block whose body holds a fence gets a longer fence of its own (the rest of the
  /// notes fell into the step), and a block someone already annotated stays byte for byte.
  @Test func fencesOutlastTheirBodyAndAnnotatedBlocksStayAsTheyAre() {
    let notes = """
      # Install

      On db01:

      ````
      cat > /etc/motd <<'END'
      ```
      END
      ````

      On db01:

      ```sh {role=controller name=already}
      echo keep   me  # 10.0.0.5 password=secret
      ```

      The end.
      """
    let result = convert(notes, words: [("db01", "db")])
    let (runbook, problems) = Runbook.parse(result.runbook, file: "out.md")
    #expect(!problems.contains { $0.severity == .error }, "\(problems)")
    #expect(runbook.steps.count == 2)
    #expect(runbook.steps.first?.body.contains("```\nEND") == true)
    #expect(result.runbook.contains("````sh {role=db}"))
    #expect(
      result.runbook.contains(
        "```sh {role=controller name=already}\necho keep   me  # 10.0.0.5 password=secret\n```"))
    #expect(result.runbook.hasSuffix("The end."))
    #expect(result.report.annotated == [13])
  }

  @Test func rolesComeFromHeadingsListItemsAndPromptsElseTODO() {
    let result = convert(Self.notes)
    let fences = result.runbook.split(separator: "\n").map { $0.trimmingWhitespace() }
      .filter { $0.hasPrefix("```") && $0.contains("{") }
    #expect(
      fences == [
        "```sh {role=db}", "```ini {role=db file=/etc/my.cnf.d/openstack.cnf}", "```sql {role=db}",
        "```ini {role=controller file=TODO}", "```sh {role=controller}", "```sh {role=TODO}",
      ], "\(fences)")
    // A setting is not run as shell: its file is for a person to name.
    #expect(
      result.report.fileTODO.map(\.why) == [
        "'connection = mysql+pymysql://keystone:<secret keystone_db_password>@10.0.0.240/keystone' is configuration, not a command, and the notes do not name its file"
      ])
    #expect(result.report.todo.count == 1)
    // The keepalived fragment names no file: documentation, said so.
    #expect(result.report.documentation.map(\.line) == [24])
    // The prompt copied with a command is not part of it.
    #expect(result.runbook.contains("\n```sh {role=controller}\nkeystone-manage db_sync\n```"))
  }

  @Test func addressesBecomeHostAndRoleFieldsAndTheVIPAVariable() {
    let result = convert(Self.notes)
    #expect(result.runbook.contains("bind-address = {{ host.address }}"))
    #expect(result.report.addressesReplaced == 2)
    #expect(result.runbook.contains("@{{ vip }}/keystone"))
    #expect(result.runbook.contains("vip: \"10.0.0.240\""))
    #expect(
      result.inventory
        == "[controller]\ncontroller1 ansible_host=10.0.0.11\n\n[lb]\nlb1 ansible_host=10.0.0.60\nlb2 ansible_host=10.0.0.61\n\n[db]\ndb1 ansible_host=10.0.0.40\n"
    )
  }

  @Test func passwordsBecomeDeclaredSecretsEncodedForWhereTheyGo() {
    let result = convert(Self.notes)
    #expect(!result.runbook.contains("k3y"), "no password is written")
    #expect(result.runbook.contains("IDENTIFIED BY {{ keystone_db_password | mysql }}"))
    #expect(result.runbook.contains("keystone:{{ keystone_db_password | url }}@"))
    #expect(result.runbook.contains("secrets: [keystone_db_password]"))
    #expect(result.report.passwordsReplaced == 2)
  }

  @Test func sqlAtAPromptDropsTheClientLineAndScreenshotsStay() {
    let result = convert(Self.notes)
    #expect(!result.runbook.contains("mysql -uroot -p"))
    #expect(result.runbook.contains("MariaDB [(none)]> GRANT ALL ON keystone.*"))
    #expect(result.runbook.contains("![granted](https://example.org/granted.png)"))
  }

  @Test func aSectionNamedInTheProseIsThatSectionOfTheFileTheItemAboveNames() {
    let notes = """
      # Glance（控制节点）
      1. 编辑文件/etc/glance/glance-api.conf，修改如下内容：
          1. [keystone_authtoken]配置段：
              ```
              username = glance
              password = s3cret
              ```
      """
    let result = convert(notes)
    #expect(
      result.runbook.contains(
        "```ini {role=controller file=/etc/glance/glance-api.conf section=keystone_authtoken}"))
    #expect(result.runbook.contains("password = {{ glance_password }}"))
    #expect(!result.runbook.contains("s3cret"))
  }

  @Test func aPromptInTheBlockNamesItsHostAndATranscriptIsAConsoleStep() {
    let notes = """
      # Checking
      ```
      root@db1:~# systemctl is-active mariadb
      ```
      Then:
      ```
      $ hostname
      db1
      $ uptime -p
      up 3 days
      ```
      """
    let result = convert(notes)
    #expect(result.runbook.contains("```sh {role=db}\nsystemctl is-active mariadb\n```"))
    #expect(result.report.assigned.first?.rule == "prompt")
    // The node the prompt named holds for the next block of the section.
    #expect(result.runbook.contains("```console {role=db}\n$ hostname\ndb1\n"))
  }

  @Test func passwordsSaidInProseCommentsAndOptionsAreHiddenToo() {
    let notes = """
      # Keystone（控制节点）
      1. 创建“admin”用户并设置密码（Adm1n）：
          ```
          keystone-manage bootstrap --bootstrap-password Adm1n --bootstrap-region-id RegionOne
          #密码为Adm1n
          ```
      """
    let result = convert(notes)
    #expect(!result.runbook.contains("Adm1n"), "\(result.runbook)")
    #expect(result.runbook.contains("--bootstrap-password {{ admin_password | quote }}"))
    #expect(result.runbook.contains("设置密码（<secret admin_password>）"))
    #expect(result.runbook.contains("#密码为<secret admin_password>"))
  }

  @Test func aTeamsOwnWordsNameItsRoles() {
    let notes = "# Setup on the web tier\n```\nnginx -t\n```\n"
    #expect(convert(notes).runbook.contains("```sh {role=TODO}"))
    #expect(convert(notes, words: [("web tier", "web")]).runbook.contains("```sh {role=web}"))
  }

  @Test func theOutputChecksOnceTODOsAreGivenRoles() throws {
    let result = convert(Self.notes)
    let fixed = result.runbook.replacingOccurrences(of: "role=TODO", with: "role=controller")
      .replacingOccurrences(of: "file=TODO", with: "file=/etc/keystone/keystone.conf")
    let (runbook, problems) = Runbook.parse(fixed, file: "o.md")
    let inventory = try InventoryParser.parse(result.inventory ?? "", file: "o.hosts")
    let (_, more) = Planner.plan(runbook, inventory: inventory)
    #expect((problems + more).filter { $0.severity == .error }.map(\.description) == [])
    #expect(runbook.steps.count == 6)
  }

  /// An editor, a pager or a follow waits for a person or never ends: such a block stays
  /// prose, with the line that decided it in the report; a file path glued to the prose
  /// around it ends where the path does.
  @Test func blocksThatWaitForAPersonOrNeverEndStayProse() {
    let notes = """
      # Redis (db)
      Open the configuration:
      ```
      sudo nano /etc/redis/redis.conf
      ```
      Follow the log:
      ```
      $ sudo tail -F /var/log/redis/redis-server.log
      ```
      Check the unit:
      ```
      systemctl edit redis
      ```
      Then restart it:
      ```
      systemctl restart redis
      ```
      Open redis.conf in nano, /etc/redis/redis.conf:
      ```
      sudo nano /etc/redis/redis.conf
      ```
      Start the socket, in /run/gunicorn.sock:
      ```
      sudo systemctl start gunicorn.socket
      ```
      Add the script to /usr/local/bin/backup.sh:
      ```
      cat > /usr/local/bin/backup.sh <<EOF
      #!/bin/sh
      tar czf /backup/etc.tgz /etc
      EOF
      chmod +x /usr/local/bin/backup.sh
      ```
      The unit:
      ```
      [Unit]
      Description=gunicorn socket

      [Socket]
      ListenStream=/run/gunicorn.sock
      ```
      Settings:
      ```
      . . .
      DATABASES = {
          'default': {
      ```
      编辑/etc/nova/nova.conf文件：
      ```
      [DEFAULT]
      debug = true
      ```
      """
    let result = convert(notes)
    let why = result.report.documentation.map(\.why)
    // The settings fragment with its braces is file content whose file is not named.
    #expect(why.count == 5, "\(why)")
    // Commands in prose that names a file are commands, not the file's content.
    #expect(!result.runbook.contains("file=/run/gunicorn.sock"))
    #expect(result.runbook.contains("```sh {role=TODO}\nsudo systemctl start gunicorn.socket"))
    #expect(result.runbook.contains("```sh {role=TODO}\ncat > /usr/local/bin/backup.sh <<EOF"))
    // Configuration with no file named becomes a step on file=TODO, listed for a person.
    let needFile = result.report.fileTODO.map(\.why)
    #expect(needFile.count == 1, "\(needFile)")
    #expect(needFile.contains { $0.contains("'[Unit]' is configuration, not a command") })
    #expect(result.report.text().contains("needs its file (file=TODO): '[Unit]'"))
    #expect(why.contains { $0.contains("'sudo nano /etc/redis/redis.conf' opens an editor") })
    #expect(why.contains { $0.contains("never ends") })
    #expect(!result.runbook.contains("}\nsudo nano"))
    #expect(result.runbook.contains("systemctl restart redis"))
    #expect(result.runbook.contains("file=/etc/nova/nova.conf}"), "\(result.runbook)")
  }

  /// A block that opens a client's prompt is not a step; the blocks typed at the prompt
  /// are, with the client as `client=`, their prompts taken off; the block that leaves it
  /// is not a step either.
  @Test func whatIsTypedAtAClientsPromptGoesToThatClient() {
    let notes = """
      # Database (db)
      Log into an interactive Postgres session:
      ```
      sudo -u postgres psql
      ```
      Create a database for your project:
      ```
      CREATE DATABASE myproject;
      ```
      Grant it:
      ```
      postgres=# GRANT ALL PRIVILEGES ON DATABASE myproject TO myprojectuser;
      ```
      Exit the prompt:
      ```
      \\q
      ```
      Then, in a shell:
      ```
      sudo systemctl restart postgresql
      ```
      """
    let result = convert(notes, words: [("Database", "db")])
    #expect(
      result.runbook.contains(
        "```sql {role=db client=\"sudo -u postgres psql\"}\nCREATE DATABASE myproject;\n```"),
      "\(result.runbook)")
    #expect(
      result.runbook.contains(
        "```sql {role=db client=\"sudo -u postgres psql\"}\nGRANT ALL PRIVILEGES ON DATABASE myproject TO myprojectuser;\n```"
      ))
    #expect(result.runbook.contains("```sh {role=db}\nsudo systemctl restart postgresql"))
    let why = result.report.documentation.map(\.why)
    #expect(
      why == [
        "'sudo -u postgres psql' opens the psql prompt: the blocks typed there become its steps",
        "'\\q' leaves a client's prompt",
      ])
    // The steps parse: the client is an attribute value like any other.
    let (runbook, problems) = Runbook.parse(result.runbook, file: "o.md")
    #expect(problems.filter { $0.severity == .error }.isEmpty, "\(problems)")
    #expect(
      runbook.steps.filter { $0.kind == .sql }.map(\.attributes.client) == [
        "sudo -u postgres psql", "sudo -u postgres psql",
      ])
  }

  /// Passwords the guides of the web write in PostgreSQL, Redis, settings and agents'
  /// configuration become secrets, one per credential.
  @Test func passwordsOfOtherDatastoresAndSettingsBecomeSecrets() {
    let notes = """
      # Database (db)
      Create the user:
      ```
      sudo -u postgres psql -c "CREATE USER myprojectuser WITH PASSWORD 'password';"
      ```
      Edit /etc/redis/redis.conf:
      ```
      requirepass your_redis_master_password
      masterauth your_redis_master_password
      ```
      Edit /etc/neutron/metadata_agent.ini, in the [DEFAULT] section:
      ```
      metadata_proxy_shared_secret = metadata
      ```
      Check:
      ```
      redis-cli -a your_redis_master_password ping
      ```
      Benchmark:
      ```
      sysbench oltp_read_write --mysql-password=bench--mysql-port=3306 run
      ```
      """
    let result = convert(notes, words: [("Database", "db")])
    for literal in ["'password'", "your_redis_master_password", "= metadata"] {
      #expect(!result.runbook.contains(literal), "\(literal) is left in \(result.runbook)")
    }
    #expect(result.runbook.contains("WITH PASSWORD {{ myprojectuser_db_password | sql }}"))
    #expect(
      result.runbook.contains("requirepass {{ redis_password }}\nmasterauth {{ redis_password }}"))
    #expect(result.runbook.contains("redis-cli -a {{ redis_password | quote }} ping"))
    // A value ends where a glued option starts: nothing of the line is lost.
    #expect(
      result.runbook.contains(
        "--mysql-password {{ service_password | quote }}--mysql-port=3306 run"), "\(result.runbook)"
    )
    #expect(
      result.report.secrets == [
        "myprojectuser_db_password", "redis_password", "metadata_proxy_shared_secret",
        "service_password",
      ])
    // A one-shot psql is a command, not a prompt.
    #expect(result.report.documentation.isEmpty, "\(result.report.documentation.map(\.why))")
  }

  /// Prose that puts a block on every node gives it every host (`role=all`).
  @Test func allNodesMeansEveryHost() {
    let notes = """
      # Setup
      Install the time service on all nodes:
      ```
      apt-get install -y chrony
      ```
      在所有节点上同步时间：
      ```
      chronyc makestep
      ```
      Then, only on the database:
      ```
      systemctl restart mariadb
      ```
      """
    let fences = convert(notes).runbook.split(separator: "\n").filter { $0.hasPrefix("```sh") }
    #expect(fences == ["```sh {role=all}", "```sh {role=all}", "```sh {role=db}"], "\(fences)")
  }

  /// An address the prose gives as an example is no node: no inventory is made from it.
  @Test func exampleAddressesMakeNoInventory() {
    let notes = """
      # Redis
      For example, use 10.8.0.1 for master.
      Use 10.0.0.11 for web01.
      ```
      redis-cli ping
      ```
      """
    let inventory = convert(notes, words: [("master", "master"), ("web01", "web")]).inventory ?? ""
    #expect(!inventory.contains("10.8.0.1"), "\(inventory)")
    #expect(inventory.contains("10.0.0.11"), "\(inventory)")
  }

  /// init's report ends with check's review of what it wrote, and says what a person must do.
  @Test func theReportReviewsTheRunbookWritten() {
    let result = convert(
      "# Web (web)\nInstall:\n```\napt-get install nginx\n```\n", words: [("Web", "web")])
    #expect(
      result.report.review.map(\.why) == [
        "'apt-get install nginx' asks for a yes before it changes anything; add -y"
      ])
    #expect(result.report.text().contains("left for a person: 0 roles, 0 files, 1 review findings"))
    let clean = convert(
      "# Web (web)\nInstall:\n```\napt-get install -y nginx\n```\n", words: [("Web", "web")])
    #expect(clean.report.review.isEmpty)
    #expect(clean.report.text().contains("nothing left for a person"))
  }

  /// What the guides of the web write: a virtualenv's or a host's prompt is taken off, the
  /// author's `mysql` and `bash` fences keep their meaning, and a block whose first line
  /// is a list, a table or a sentence is not run.
  @Test func promptsFencesAndProseAsTheWebWritesThem() {
    let notes = """
      # App (web)
      Install:
      ```
      (venv) $ pip install django gunicorn
      ```
      On the nodes:
      ```
      mrdb-cls{01,02,03}# apt-get install -y mariadb-server
      ```
      Create it:
      ```mysql
      CREATE DATABASE myproject;
      ```
      Build:
      ```bash
      set -o pipefail; make | tee build.log
      ```
      Limitations:
      ```
      - Only InnoDB tables are replicated.
      - Explicit locking is not supported.
      ```
      Results:
      ```
      The cluster handled four thousand queries per second.
      ```
      """
    let result = convert(notes, words: [("App", "web")])
    #expect(
      result.runbook.contains("```sh {role=web}\npip install django gunicorn\n```"),
      "\(result.runbook)")
    #expect(result.runbook.contains("```sh {role=web}\napt-get install -y mariadb-server\n```"))
    #expect(result.runbook.contains("```sql {role=web}\nCREATE DATABASE myproject;\n```"))
    #expect(result.runbook.contains("```bash {role=web}\nset -o pipefail;"))
    let why = result.report.documentation.map(\.why)
    #expect(
      why == [
        "'- Only InnoDB tables are replicated.' is a list, a table or a quotation, not a command",
        "'The cluster handled four thousand queries per second.' is a sentence, not a command",
      ], "\(why)")
  }

  /// An editor's line names the file the content after it goes into: in the same block,
  /// or in the next one; a new file is written whole, an existing one merged or added to.
  @Test func whatAGuideTypesIntoAnEditorGoesIntoThatFile() {
    let notes = """
      # Web (web)
      Create and open a new server block in Nginx's sites-available directory:
      ```
      sudo nano /etc/nginx/sites-available/myproject
      ```
      ```
      server {
          listen 80;
      }
      ```
      Configure Galera on each node:
      ```
      nano /etc/mysql/mariadb.conf.d/50-server.cnf
      [galera]
      wsrep_on = ON
      ```
      """
    let result = convert(notes, words: [("Web", "web")])
    #expect(
      result.runbook.contains(
        "```text {role=web file=/etc/nginx/sites-available/myproject}\nserver {\n    listen 80;\n}\n```"
      ),
      "\(result.runbook)")
    #expect(
      result.runbook.contains(
        "```ini {role=all file=/etc/mysql/mariadb.conf.d/50-server.cnf}\n[galera]\nwsrep_on = ON\n```"
      ))
    #expect(
      result.report.documentation.map(\.why) == [
        "'sudo nano /etc/nginx/sites-available/myproject' opens an editor on /etc/nginx/sites-available/myproject: the next block is its content"
      ])
  }

  /// A block where shell commands and lines typed at a client's prompt alternate is a
  /// session a person drives: it is not run, and none of its lines is dropped.
  @Test func aBlockMixingShellAndAPromptIsNotRun() {
    let notes = """
      # Database (db)
      Prepare the benchmark:
      ```
      mysql -u root -p
      MariaDB [(none)]> CREATE DATABASE sbtest;
      MariaDB [(none)]> exit
      sysbench oltp_read_write --mysql-db=sbtest prepare
      ```
      """
    let result = convert(notes, words: [("Database", "db")])
    #expect(result.report.steps == 0)
    #expect(
      result.report.documentation.map(\.why) == [
        "'sysbench oltp_read_write --mysql-db=sbtest prepare' is a shell command among lines typed at a client's prompt"
      ])
    #expect(result.runbook.contains("MariaDB [(none)]> exit\nsysbench oltp_read_write"))
  }

  /// The blocks of a troubleshooting or recovery section are done by hand when needed:
  /// they stay prose, the report naming the section.
  @Test func troubleshootingAndRecoveryAreNotRunEveryTime() {
    let notes = """
      # Install (web)
      ```
      apt-get install -y nginx
      ```
      ## Troubleshooting
      ```
      rm -rf /var/cache/nginx
      ```
      ## Starting order after all nodes are down
      ```
      galera_new_cluster
      ```
      """
    let result = convert(notes, words: [("Install", "web")])
    #expect(result.report.steps == 1)
    #expect(
      result.report.documentation.map(\.why) == [
        "in 'Troubleshooting', which is done by hand when it is needed, not on every run",
        "in 'Starting order after all nodes are down', which is done by hand when it is needed, not on every run",
      ])
  }

  /// The report quotes the notes, but names a password it found instead of showing it.
  @Test func theReportNamesPasswordsItQuotes() {
    let notes = """
      # Database (db)
      Load:
      ```
      mysql -u app -pS3cretPw app < schema.sql
      ```
      Watch it:
      ```
      watch mysql -u app -pS3cretPw -e 'show processlist'
      ```
      """
    let result = convert(notes, words: [("Database", "db")])
    let text = result.report.text()
    #expect(!text.contains("S3cretPw"), "\(text)")
    #expect(text.contains("-p<secret app_db_password> -e"), "\(text)")
  }

  /// A client that cannot be written as `client=` (a password flag, a double quote) opens
  /// no prompt: its statements never go to MySQL, the default client, instead.
  @Test func aClientThatCannotBeKeptOpensNoPrompt() {
    let notes = """
      # Database (db)
      ```
      psql "host=db1 dbname=app"
      ```
      ```
      CREATE TABLE t (id int);
      ```
      """
    let result = convert(notes, words: [("Database", "db")])
    #expect(!result.runbook.contains("```sql"), "\(result.runbook)")
  }
}
