// The command line that "Shipyard: Start Local Server" types into its terminal. No `vscode` import.

const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]", "::1", "0.0.0.0"]);

/** Quote one argument for the terminal's shell (POSIX sh, or PowerShell/cmd on Windows). */
export function shellQuote(arg: string, windows = false): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) {
    return arg;
  }
  return windows ? `"${arg.replace(/"/g, '""')}"` : `'${arg.replace(/'/g, `'"'"'`)}'`;
}

/** Host and port to serve on, from `shipyard.serverUrl`; throws (with the fix) for a remote or bad URL. */
export function localBind(serverUrl: string): { host: string; port: string } {
  let url: URL;
  try {
    url = new URL(serverUrl);
  } catch {
    throw new Error(`shipyard.serverUrl '${serverUrl}' is not a URL; set it to e.g. http://127.0.0.1:8765.`);
  }
  if (url.protocol !== "http:") {
    throw new Error(`shipyard.serverUrl '${serverUrl}' is not http://; a local server speaks plain HTTP on 127.0.0.1.`);
  }
  if (!LOCAL_HOSTS.has(url.hostname)) {
    throw new Error(
      `shipyard.serverUrl points to ${url.hostname}, not this machine; start that server there, or set shipyard.serverUrl to http://127.0.0.1:8765.`,
    );
  }
  return { host: url.hostname === "localhost" ? "127.0.0.1" : url.hostname.replace(/^\[|\]$/g, ""), port: url.port || "8765" };
}

/** `shipyard server --workspace W --host H --port P [extra args]`, quoted for the terminal's shell. */
export function serverCommandLine(
  exe: string,
  workspace: string,
  serverUrl: string,
  extraArgs: readonly string[],
  windows = false,
): string {
  const { host, port } = localBind(serverUrl);
  const argv = [exe, "server", "--workspace", workspace, "--host", host, "--port", port, ...extraArgs];
  const line = argv.map((a) => shellQuote(a, windows)).join(" ");
  // PowerShell runs a quoted program path only through the call operator.
  return windows && line.startsWith('"') ? `& ${line}` : line;
}

/** `[project] name` of a shipyard.toml (undefined when absent), for the status bar. */
export function projectName(toml: string): string | undefined {
  let inProject = false;
  for (const raw of toml.split(/\r?\n/)) {
    const line = raw.replace(/#.*$/, "").trim();
    if (line.startsWith("[")) {
      inProject = line === "[project]";
    } else if (inProject) {
      const m = /^name\s*=\s*(?:"([^"]*)"|'([^']*)')$/.exec(line);
      if (m) {
        return (m[1] ?? m[2]) || undefined;
      }
    }
  }
  return undefined;
}

/** The status bar's tooltip: who is signed in where, and whether this folder belongs to the server's project. */
export function connectionTooltip(
  host: string,
  me: { name: string; project: string; role: string | null },
  folderProject: string | undefined,
): string {
  const who = `Connected to ${host} as ${me.name} (${me.role ?? "no role"} in project ${me.project})`;
  if (folderProject && folderProject !== me.project) {
    return `${who}; this folder's shipyard.toml names project ${folderProject}, which this server does not serve`;
  }
  return who;
}
