import { describe, expect, it } from "vitest";
import { connectionTooltip, localBind, projectName, serverCommandLine, shellQuote } from "../src/localServer";

describe("Start Local Server command line", () => {
  it("serves the open folder on the configured host and port, with the extra arguments", () => {
    expect(serverCommandLine("shipyard", "/w/churn", "http://127.0.0.1:9001", ["--no-serve"])).toBe(
      "shipyard server --workspace /w/churn --host 127.0.0.1 --port 9001 --no-serve",
    );
    expect(serverCommandLine("shipyard", "/w", "http://localhost", [])).toBe("shipyard server --workspace /w --host 127.0.0.1 --port 8765");
  });

  it("quotes paths with spaces and shell metacharacters", () => {
    expect(serverCommandLine("/opt/my env/bin/shipyard", "/w/it's; rm -rf ~", "http://127.0.0.1:1", [])).toBe(
      `'/opt/my env/bin/shipyard' server --workspace '/w/it'"'"'s; rm -rf ~' --host 127.0.0.1 --port 1`,
    );
    expect(serverCommandLine("C:\\Program Files\\sy.exe", "C:\\w", "http://127.0.0.1:2", [], true)).toBe(
      '& "C:\\Program Files\\sy.exe" server --workspace "C:\\w" --host 127.0.0.1 --port 2',
    );
    expect(shellQuote('a"b', true)).toBe('"a""b"');
    expect(shellQuote("$(reboot)")).toBe("'$(reboot)'");
  });

  it.each([
    ["not a url", "is not a URL"],
    ["https://127.0.0.1:8765", "is not http://"],
    ["http://shipyard.example.com:8765", "points to shipyard.example.com, not this machine"],
  ])("refuses serverUrl %s with the fix", (url, message) => {
    expect(() => localBind(url)).toThrow(message);
    expect(() => localBind(url)).toThrow(/shipyard\.serverUrl/);
  });

  it("accepts the loopback and any-address hosts", () => {
    expect(localBind("http://[::1]:7000")).toEqual({ host: "::1", port: "7000" });
    expect(localBind("http://0.0.0.0:7000/")).toEqual({ host: "0.0.0.0", port: "7000" });
  });
});

describe("status bar project", () => {
  it.each([
    ['# ws\n[project]\nname = "churn"\n\n[store]\nname = "x"\n', "churn"],
    ["[project]\r\nname='arpu'  # comment\r\n", "arpu"],
    ['[store]\nname = "x"\n', undefined],
    ['[project]\nname = ""\n', undefined],
    ["", undefined],
  ])("reads [project] name from %j", (toml, name) => {
    expect(projectName(toml)).toBe(name);
  });
});

describe("connectionTooltip", () => {
  const me = { name: "alice", project: "churn", role: "editor" };
  it("names the principal, role and project", () => {
    expect(connectionTooltip("127.0.0.1:8765", me, "churn")).toBe(
      "Connected to 127.0.0.1:8765 as alice (editor in project churn)",
    );
    expect(connectionTooltip("h:1", { ...me, role: null }, undefined)).toContain("(no role in project churn)");
  });
  it("warns when the open folder belongs to another project", () => {
    expect(connectionTooltip("h:1", me, "fraud")).toContain("names project fraud, which this server does not serve");
  });
});
