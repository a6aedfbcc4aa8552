import Foundation
import Testing

@testable import RunbookKit

/// The Ocata runbook's verification steps can fail: each `expect=` matches the output of a
/// healthy cloud and not the output of a broken one (a dead agent, a service down or
/// disabled, a missing cell, a service named elsewhere in the catalog). The outputs are
/// the client's tables as OpenStack Ocata prints them.
@Suite struct OcataChecksTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

  /// Each check's `expect=` as it renders for its host, with the host names it captures.
  static func expectations() throws -> [String: String] {
    var preflight = Preflight(
      runbookPath: root.appendingPathComponent("Runbooks/ocata.md").path,
      inventoryPath: root.appendingPathComponent("Runbooks/ocata.hosts").path)
    preflight.variables = []
    let outcome = preflight.run()
    let plan = try #require(outcome.plan)
    let captured = ["compute_hostname": "compute1", "controller_hostname": "controller"]
    var out: [String: String] = [:]
    for planned in plan.steps where !planned.hosts.isEmpty {
      out[planned.step.id] = planned.rendered(at: 0, captured: captured).fields[.expect]
    }
    return out
  }

  static let agents = """
    +--------------------------------------+--------------------+------------+-------------------+-------+-------+---------------------------+
    | ID                                   | Agent Type         | Host       | Availability Zone | Alive | State | Binary                    |
    +--------------------------------------+--------------------+------------+-------------------+-------+-------+---------------------------+
    | 0400c2f6-4d3b-44bc-89fa-99093432f3bf | Metadata agent     | controller | None              | :-)   | UP    | neutron-metadata-agent    |
    | 83cf853d-a2f2-450a-99d7-e9c6fc08f4c3 | DHCP agent         | controller | nova              | :-)   | UP    | neutron-dhcp-agent        |
    | ec302e51-6101-43cf-9f19-88a78613cbee | Linux bridge agent | compute1   | None              | :-)   | UP    | neutron-linuxbridge-agent |
    | fcb9bc6e-22b1-43bc-9054-272dd517d025 | Linux bridge agent | controller | None              | :-)   | UP    | neutron-linuxbridge-agent |
    +--------------------------------------+--------------------+------------+-------------------+-------+-------+---------------------------+
    """

  static let services = """
    +----+------------------+------------+----------+---------+-------+----------------------------+
    | ID | Binary           | Host       | Zone     | Status  | State | Updated At                 |
    +----+------------------+------------+----------+---------+-------+----------------------------+
    |  1 | nova-consoleauth | controller | internal | enabled | up    | 2016-02-09T23:11:15.000000 |
    |  2 | nova-scheduler   | controller | internal | enabled | up    | 2016-02-09T23:11:15.000000 |
    |  3 | nova-conductor   | controller | internal | enabled | up    | 2016-02-09T23:11:16.000000 |
    |  4 | nova-compute     | compute1   | nova     | enabled | up    | 2016-02-09T23:11:20.000000 |
    +----+------------------+------------+----------+---------+-------+----------------------------+
    """

  static let cells = """
    +-------+--------------------------------------+------------------------------------+-------------------------------------------------+
    |  Name |                 UUID                 |           Transport URL            |               Database Connection               |
    +-------+--------------------------------------+------------------------------------+-------------------------------------------------+
    | cell0 | 00000000-0000-0000-0000-000000000000 |               none:/               | mysql+pymysql://nova:****@10.0.0.240/nova_cell0 |
    | cell1 | 510ad3d0-4b1d-4e8b-9e47-d8c4b7a0d0a6 | rabbit://openstack:****@controller |    mysql+pymysql://nova:****@10.0.0.240/nova    |
    +-------+--------------------------------------+------------------------------------+-------------------------------------------------+
    """

  static let catalog = """
    +-----------+-----------+-----------------------------------------+
    | Name      | Type      | Endpoints                               |
    +-----------+-----------+-----------------------------------------+
    | keystone  | identity  | RegionOne                               |
    |           |           |   public: http://10.0.0.240:5000/v3/    |
    | placement | placement | RegionOne                               |
    |           |           |   public: http://10.0.0.240:8778        |
    +-----------+-----------+-----------------------------------------+
    """

  /// A step, the output of a healthy cloud, and outputs of broken ones.
  static let cases: [(step: String, good: String, broken: [String])] = [
    (
      "agent-list-controller", agents,
      [
        agents.replacingOccurrences(
          of: "| DHCP agent         | controller | nova              | :-)   | UP ",
          with: "| DHCP agent         | controller | nova              | XXX   | UP "),
        agents.replacingOccurrences(
          of: "| DHCP agent         | controller | nova              | :-)   | UP ",
          with: "| DHCP agent         | controller | nova              | :-)   | DOWN "),
      ]
    ),
    (
      "agent-list", agents,
      [
        agents.replacingOccurrences(
          of: "| compute1   | None              | :-)   |",
          with: "| compute1   | None              | XXX   |"),
        agents.replacingOccurrences(of: "| compute1   |", with: "| compute2   |"),
      ]
    ),
    (
      "compute-service-list", services,
      [
        services.replacingOccurrences(
          of: "| compute1   | nova     | enabled | up ",
          with: "| compute1   | nova     | enabled | down "),
        services.replacingOccurrences(
          of: "| compute1   | nova     | enabled | up ",
          with: "| compute1   | nova     | disabled | up "),
      ]
    ),
    (
      "nova-service-list", services,
      [
        services.replacingOccurrences(
          of: "| compute1   | nova     | enabled | up ",
          with: "| compute1   | nova     | enabled | down ")
      ]
    ),
    (
      "cells-check", cells,
      [cells.split(separator: "\n").filter { !$0.contains("cell0") }.joined(separator: "\n")]
    ),
    (
      "catalog-list", catalog,
      [
        catalog.replacingOccurrences(
          of: "| placement | placement |", with: "|           |           |")
          + "\n(placement is not in the catalog)"
      ]
    ),
  ]

  @Test(arguments: cases.map(\.step))
  func aCheckPassesAHealthyCloudAndFailsABrokenOne(step: String) throws {
    let expectations = try Self.expectations()
    let pattern = try #require(expectations[step], "\(step) has an expect=")
    let test = try #require(Self.cases.first { $0.step == step })
    #expect(test.good.range(of: pattern, options: .regularExpression) != nil, "\(pattern)")
    for broken in test.broken {
      #expect(
        broken.range(of: pattern, options: .regularExpression) == nil, "\(pattern) on\n\(broken)")
    }
  }
}
