import { execFileSync, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { BIG_KUBECONFIG, copyFixture, readTree, tempDir } from "../support/fixture";
import { captured, CapturedCommand, commandOf, runProgram } from "../support/program";
import { invocation, runCaptured, RunOptions, spawnCaptured, StartedRun, startCaptured } from "../support/run-script";

// The repository sits under a path with a space and a command substitution in it: the
// scripts must work there without running anything.
const root = tempDir();
const repo = path.join(root, "work dir $(touch pwned)", "repo");
const nsDir = path.join(repo, "namespaces", "dev");
const remote = path.join(root, "remote");
const programDirectory = process.cwd();
const KUBECONFIG_CONTENT = "apiVersion: v1\nkind: Config\nclusters: []\n";
let commands: Record<"config" | "install" | "provision", CapturedCommand>;
/** The install phase with each `logging` setting. */
let logged: Record<"all" | "stderr" | "steps", CapturedCommand>;
/** The install phase with kaptain's strategy: sync every release. */
let synced: CapturedCommand;
/** Another namespace of the same repository. */
let prodInstall: CapturedCommand;
/** A phase whose program gives no kubeconfig. */
let ambientInstall: CapturedCommand;
/** A phase whose kubeconfig is over 1 MiB. */
let bigInstall: CapturedCommand;
/** A phase that names its helmfile: the repository's, from namespace prod. */
let filedInstall: CapturedCommand;
/** geo's namespace guard (namespace dev), and filed's (namespace prod, a kube context). */
let guard: CapturedCommand;
let filedGuard: CapturedCommand;
let record: string;
let runtimeDir: string;

beforeAll(async () => {
    copyFixture(repo);
    // A local remote (behind an alias so the test picks where it writes).
    fs.writeFileSync(
        path.join(nsDir, "rclone.conf"),
        `[store]\ntype = local\n\n[kaptain]\ntype = alias\nremote = store:${remote}\n`,
    );
    const engine = await runProgram(async () => {
        const { Infrastructure } = await import("../../sdk");
        new Infrastructure("geo", {
            namespace: "dev",
            workingDirectory: repo,
            kubeconfig: KUBECONFIG_CONTENT,
            phases: { config: true, install: true, provision: true },
        });
        new Infrastructure("all", {
            namespace: "dev",
            workingDirectory: repo,
            kubeconfig: KUBECONFIG_CONTENT,
            logging: "all",
        });
        new Infrastructure("steps", {
            namespace: "dev",
            workingDirectory: repo,
            kubeconfig: KUBECONFIG_CONTENT,
            logging: "steps",
        });
        new Infrastructure("prod", {
            namespace: "prod",
            workingDirectory: repo,
            kubeconfig: KUBECONFIG_CONTENT,
            hooks: false,
        });
        // No kubeconfig: the scripts use the ambient one.
        new Infrastructure("ambient", { namespace: "prod", workingDirectory: repo, hooks: false });
        new Infrastructure("filed", {
            namespace: "prod",
            workingDirectory: repo,
            kubeconfig: KUBECONFIG_CONTENT,
            hooks: false,
            helmfile: { file: "../../helmfile.yaml", kubeContext: "prod-ctx" },
        });
        new Infrastructure("big", {
            namespace: "prod",
            workingDirectory: repo,
            hooks: false,
            kubeconfig: BIG_KUBECONFIG,
        });
        new Infrastructure("synced", {
            namespace: "dev",
            workingDirectory: repo,
            kubeconfig: KUBECONFIG_CONTENT,
            helmfile: { strategy: "sync" },
        });
    });
    synced = captured(commandOf(engine, "synced-install"));
    prodInstall = captured(commandOf(engine, "prod-install"));
    ambientInstall = captured(commandOf(engine, "ambient-install"));
    bigInstall = captured(commandOf(engine, "big-install"));
    filedInstall = captured(commandOf(engine, "filed-install"));
    guard = captured(commandOf(engine, "geo-namespace-guard"));
    filedGuard = captured(commandOf(engine, "filed-namespace-guard"));
    logged = {
        all: captured(commandOf(engine, "all-install")),
        stderr: captured(commandOf(engine, "geo-install")),
        steps: captured(commandOf(engine, "steps-install")),
    };
    commands = {
        config: captured(commandOf(engine, "geo-config")),
        install: captured(commandOf(engine, "geo-install")),
        provision: captured(commandOf(engine, "geo-provision")),
    };
});

beforeEach(() => {
    record = fs.mkdtempSync(path.join(root, "record-"));
    runtimeDir = fs.mkdtempSync(path.join(root, "xdg-"));
});

function run(cmd: CapturedCommand, which: "create" | "delete", extra: Partial<RunOptions> = {}) {
    return runCaptured(cmd, which, {
        programDirectory,
        stubHelmfile: extra.stubHelmfile,
        env: { HELMFILE_RECORD: record, FIXTURE_RECORD: record, XDG_RUNTIME_DIR: runtimeDir, ...extra.env },
    });
}

/** The install phase's create, started with a helmfile that waits until `release` exists. */
function heldInstall(env: Record<string, string> = {}): { run: StartedRun; release: string } {
    const release = path.join(record, "release");
    const run = spawnCaptured(commands.install, "create", {
        programDirectory,
        env: {
            HELMFILE_RECORD: record,
            FIXTURE_RECORD: record,
            XDG_RUNTIME_DIR: runtimeDir,
            HELMFILE_WAIT_FOR: release,
            ...env,
        },
    });
    return { run, release };
}

function helmfileCalls(): string[] {
    return fs.existsSync(record)
        ? fs
              .readdirSync(record)
              .filter(f => f.startsWith("call-"))
              .sort()
        : [];
}

function argv(call = "call-1"): string[] {
    return fs
        .readFileSync(path.join(record, call, "argv"), "utf8")
        .trimEnd()
        .split("\n");
}

function helmfileEnv(call = "call-1"): Record<string, string> {
    return Object.fromEntries(
        fs
            .readFileSync(path.join(record, call, "env"), "utf8")
            .split("\0")
            .filter(Boolean)
            .map(kv => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
    );
}

function hookCalls(): Array<Record<string, string>> {
    const log = path.join(record, "hooks.log");
    if (!fs.existsSync(log)) {
        return [];
    }
    return fs
        .readFileSync(log, "utf8")
        .split("--\n")
        .filter(Boolean)
        .map(block =>
            Object.fromEntries(
                block
                    .trim()
                    .split("\n")
                    .map(l => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
            ),
        );
}

function expectCleanedUp() {
    expect(fs.existsSync(path.join(nsDir, "provision-configs", ".kaptain"))).toBe(false);
    // One lock per repository: namespaces share its charts, whose dependencies helm rebuilds in place.
    expect(fs.lstatSync(path.join(repo, ".kaptain-lock"), { throwIfNoEntry: false })).toBeUndefined();
    expect(fs.lstatSync(path.join(nsDir, ".kaptain-lock"), { throwIfNoEntry: false })).toBeUndefined();
    expect(fs.readdirSync(runtimeDir)).toEqual([]);
}

/** Two helmfile calls were recorded, one after the other, never overlapping; returns them. */
function expectTwoHelmfileRunsApart(): string[] {
    const calls = helmfileCalls();
    expect(calls).toHaveLength(2);
    const span = (call: string) =>
        ["start", "end"].map(f => BigInt(fs.readFileSync(path.join(record, call, f), "utf8").trim()));
    const [[s1, e1], [s2, e2]] = calls.map(span).sort((x, y) => (x[0] < y[0] ? -1 : 1));
    expect(e1 <= s2 || e2 <= s1).toBe(true);
    return calls;
}

/** The `kaptain: <phase>: ...` lines a run printed (on its stderr, whatever `logging` says). */
function stepLines(result: { stderr: string }, phase = "install"): string[] {
    return result.stderr.split("\n").filter(l => l.startsWith(`kaptain: ${phase}: `));
}

/** Waits for an event (up to 30 s): the first value of `ready` that is neither undefined nor false. */
async function until<T>(what: string, ready: () => T | undefined | false): Promise<T> {
    const deadline = Date.now() + 30_000;
    for (;;) {
        const value = ready();
        if (value !== undefined && value !== false) {
            return value;
        }
        if (Date.now() > deadline) {
            throw new Error(`gave up waiting for ${what}`);
        }
        await new Promise(resolve => setTimeout(resolve, 50));
    }
}

/** The pid of a recorded helmfile call that waits for HELMFILE_WAIT_FOR, once it has started. */
function startedHelmfile(call = "call-1"): number | undefined {
    const started = path.join(record, call, "started");
    const text = fs.existsSync(started) ? fs.readFileSync(started, "utf8") : "";
    return text.endsWith("\n") ? Number(text) : undefined;
}

/** Ends what a test started: lets every fake helmfile waiting for `release` finish, and waits for the runs. */
async function settle(release: string, ...runs: Array<StartedRun | undefined>): Promise<void> {
    fs.writeFileSync(release, "");
    await Promise.all(runs.map(r => r?.result));
}

/** Whether a process runs: a zombie does not (it holds nothing open, it only waits to be reaped). */
function running(pid: number): boolean {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        return stat[stat.lastIndexOf(")") + 2] !== "Z";
    } catch {
        return false;
    }
}

/** The pid a hook wrote to `file` in the record folder, once it is there. */
function recordedPid(file: string): number | undefined {
    const at = path.join(record, file);
    return fs.existsSync(at) ? Number(fs.readFileSync(at, "utf8")) : undefined;
}

describe("install create", () => {
    it("runs pre-install, make-config, helmfile and post-install in order, printing each step", () => {
        const result = run(commands.install, "create");
        expect(result.status).toBe(0);
        expect(stepLines(result)).toEqual([
            "kaptain: install: pre-install hook",
            "kaptain: install: make-config hook",
            "kaptain: install: copy rclone.conf into provision-configs/.kaptain",
            "kaptain: install: helmfile runs for the whole phase: no record of a previous run to compare with " +
                "(a create, or a state from before pulumi-kaptain kept one)",
            "kaptain: install: helmfile apply",
            "kaptain: install: post-install hook",
            "kaptain: install: done",
        ]);
        expect(hookCalls().map(c => c.hook)).toEqual(["pre-install", "make-config", "post-install"]);
        expect(helmfileCalls()).toEqual(["call-1"]);
        expectCleanedUp();
    });

    it("gives hooks kaptain's variables, with the real directories", () => {
        expect(run(commands.install, "create").status).toBe(0);
        const realNs = fs.realpathSync(nsDir);
        expect(hookCalls()).toHaveLength(3);
        for (const call of hookCalls()) {
            expect(call).toMatchObject({
                namespace: "dev",
                namespace_dir: realNs,
                working_dir: fs.realpathSync(repo),
                pwd: realNs,
            });
        }
    });

    it("calls helmfile in the namespace directory with the install selector only, concurrency and --skip-needs", () => {
        run(commands.install, "create");
        expect(argv()).toEqual([
            "--selector",
            "action=install",
            "apply",
            "--concurrency",
            "4",
            "--skip-needs",
            "--suppress-secrets",
            "--hide-notes",
        ]);
        expect(fs.readFileSync(path.join(record, "call-1", "cwd"), "utf8").trim()).toBe(fs.realpathSync(nsDir));
    });

    it("lets variables exported by hooks reach helmfile", () => {
        run(commands.install, "create");
        const env = helmfileEnv();
        expect(env.REPO_REVISION).toBe("fixture-revision");
        expect(env.KAPTAIN_NAMESPACE).toBe("dev");
        expect(env.KAPTAIN_NAMESPACE_DIRECTORY).toBe(fs.realpathSync(nsDir));
    });

    it("hands kubeconfig content to helmfile and the hooks in a private file that no path on disk leads to", () => {
        const result = run(commands.install, "create", {
            // A hook's child process reads it too.
            env: { FIXTURE_EVAL: `bash -c 'cat -- "$KUBECONFIG"; :' >"$FIXTURE_RECORD/hook-kubeconfig"` },
        });
        expect(result.status, result.stderr).toBe(0);
        const env = helmfileEnv();
        expect(fs.readFileSync(path.join(record, "call-1", "kubeconfig"), "utf8")).toBe(KUBECONFIG_CONTENT);
        expect(fs.readFileSync(path.join(record, "hook-kubeconfig"), "utf8")).toBe(KUBECONFIG_CONTENT);
        expect(fs.readFileSync(path.join(record, "call-1", "kubeconfig.mode"), "utf8").trim()).toBe("600");
        expect(env.KAPTAIN_KUBECONFIG).toBeUndefined();
        // The script's own descriptor, its file unlinked while helmfile ran.
        expect(env.KUBECONFIG).toMatch(/^\/proc\/\d+\/fd\/47$/);
        expect(fs.readFileSync(path.join(record, "call-1", "kubeconfig.link"), "utf8")).toMatch(/ \(deleted\)\n$/);
        expectCleanedUp();
    });

    it("takes a kubeconfig over 1 MiB, which reaches helmfile whole", () => {
        // Run as the command provider runs it: an environment string over 128 KiB would
        // fail here with E2BIG ("Argument list too long").
        const result = run(bigInstall, "create");
        expect(result.status, result.stderr).toBe(0);
        expect(fs.readFileSync(path.join(record, "call-1", "kubeconfig"), "utf8")).toBe(BIG_KUBECONFIG);
        expectCleanedUp();
        // The content is the Command's stdin: no environment value comes near the limit.
        for (const [key, value] of Object.entries(bigInstall.environment)) {
            expect(Buffer.byteLength(value), key).toBeLessThan(64 * 1024);
        }
    });

    it("leaves no kubeconfig on disk when the phase's bash is SIGKILLed (the command provider's cancel)", async () => {
        const { bin, args, cwd, env, stdin } = invocation(commands.install, "create", {
            programDirectory,
            env: { HELMFILE_RECORD: record, FIXTURE_RECORD: record, XDG_RUNTIME_DIR: runtimeDir, HELMFILE_SLEEP: "60" },
        });
        // Its own process group, so that the helmfile it leaves running can be ended after.
        const child = spawn(bin, args, { cwd, env, stdio: ["pipe", "ignore", "ignore"], detached: true });
        child.stdin.end(stdin);
        const exited = new Promise(resolve => child.on("exit", resolve));
        let steps: string | undefined;
        try {
            // helmfile is running: it has read the kubeconfig.
            await until("helmfile to record the kubeconfig", () =>
                fs.existsSync(path.join(record, "call-1", "kubeconfig.link")),
            );
            // The steps run in a process group of their own, named in the lock's note.
            steps = /^group=(\d+)$/m.exec(fs.readFileSync(path.join(repo, ".kaptain-lock"), "utf8"))?.[1];
            child.kill("SIGKILL");
            await exited;
            const left = spawnSync("grep", ["-rl", "--", "kind: Config", runtimeDir, nsDir], { encoding: "utf8" });
            expect(left.stdout).toBe("");
        } finally {
            for (const group of [child.pid, steps]) {
                try {
                    process.kill(-Number(group), "SIGKILL");
                } catch {
                    // already gone
                }
            }
            // What the trap would have removed (the lock and the embed folder belong to
            // the lock's tests): the next test starts clean.
            fs.rmSync(path.join(repo, ".kaptain-lock"), { force: true });
            fs.rmSync(path.join(nsDir, "provision-configs", ".kaptain"), { recursive: true, force: true });
        }
    });

    it("embeds merged configs: namespace files override common ones, values.yaml* left out", () => {
        run(commands.install, "create");
        const embedded = readTree(path.join(record, "call-1", "kaptain"));
        expect(embedded).toEqual({
            "app/a.conf": "dev-a\n",
            "app/b.conf": "common-b\n",
            "app/sub/s.conf": "dev-sub\n",
            "app.sub/s.conf": "dev-sub\n",
            "rclone.conf": fs.readFileSync(path.join(nsDir, "rclone.conf"), "utf8"),
        });
    });

    it("packs the rclone config into a byte-identical tarball on the remote, run after run", () => {
        const tarball = path.join(remote, "dev", "tiles-config.tar.gz");
        expect(run(commands.install, "create").status).toBe(0);
        const first = fs.readFileSync(tarball);
        // Change every mtime and wait past a second boundary: the bytes must not move.
        const later = new Date(Date.now() + 90_000);
        for (const f of ["configs/tiles/style.json", "configs/tiles/values.yaml"]) {
            fs.utimesSync(path.join(repo, f), later, later);
        }
        fs.rmSync(tarball);
        expect(run(commands.install, "create").status).toBe(0);
        expect(fs.readFileSync(tarball).equals(first)).toBe(true);

        const listing = execFileSync("tar", ["-tvzf", tarball, "--numeric-owner"], { encoding: "utf8" });
        const entries = listing.trim().split("\n");
        expect(entries.map(l => l.split(/\s+/).pop())).toEqual(["./", "./style.json"]);
        for (const line of entries) {
            expect(line).toMatch(/ 0\/0 /);
            expect(line).toContain("2017-09-15 00:00");
        }
        const raw = execFileSync("sh", ["-c", `gzip -dc < '${tarball}' | strings`], { encoding: "utf8" });
        expect(raw).not.toMatch(/atime|ctime/);
    });

    it("stops on a failing helmfile: exit non-zero, no post hook, cleaned up", () => {
        const result = run(commands.install, "create", { env: { HELMFILE_EXIT: "3" } });
        expect(result.status).toBe(3);
        expect(result.stderr).toContain("kaptain: install: error: failed during step 'helmfile apply' (exit status 3)");
        expect(hookCalls().map(c => c.hook)).toEqual(["pre-install", "make-config"]);
        expectCleanedUp();
    });

    it("stops on a failing hook before helmfile runs", () => {
        const result = run(commands.install, "create", { env: { FIXTURE_FAIL_PRE_INSTALL: "1" } });
        expect(result.status).not.toBe(0);
        expect(result.stderr).toContain("failed during step 'pre-install hook'");
        expect(result.stderr).toContain("kaptain: install: error: the failing command: ./hooks.sh:21: false");
        expect(helmfileCalls()).toEqual([]);
        expectCleanedUp();
    });

    it("names a helper called without its argument, and where the hook called it", () => {
        const result = run(commands.install, "create", {
            env: { FIXTURE_EVAL: "embed_config", FIXTURE_EVAL_HOOK: "make-config" },
        });
        expect(result.status).toBe(2);
        expect(result.stderr).toContain("kaptain: usage: embed_config APP (got 0 arguments)");
        expect(result.stderr).toMatch(/the failing command: \.\/hooks\.sh:\d+: eval "\$FIXTURE_EVAL"\n/);
        expect(helmfileCalls()).toEqual([]);
    });

    it("checks for helmfile before anything runs, with one clear line", () => {
        const result = run(commands.install, "create", { stubHelmfile: false, env: { PATH: "/usr/bin:/bin" } });
        expect(result.status).toBe(1);
        expect(result.stderr).toContain(
            "kaptain: install: error: helmfile is required but 'helmfile' was not found on PATH",
        );
        expect(hookCalls()).toEqual([]);
        expectCleanedUp();
    });

    it("checks that helmfile can hide release notes before anything runs, and names the way out", () => {
        const result = run(commands.install, "create", { env: { HELMFILE_STUB_OLD: "1" } });
        expect(result.status).toBe(1);
        expect(result.stderr).toContain(
            "kaptain: install: error: helmfile 'helmfile' has no --hide-notes (helmfile 0.169 or later), " +
                "which logging 'stderr' passes to keep helm's release notes out of the log: " +
                "upgrade helmfile, or set logging to 'all'",
        );
        expect(hookCalls()).toEqual([]);
        expect(helmfileCalls()).toEqual([]);
        // A helmfile still writing its help after the flag is found has the flag.
        expect(run(commands.install, "create", { env: { HELMFILE_STUB_SLOW_HELP: "1" } }).status).toBe(0);
        // With everything let through, nothing is hidden and no such helmfile is needed.
        expect(run(logged.all, "create", { env: { HELMFILE_STUB_OLD: "1" } }).status).toBe(0);
        expectCleanedUp();
    });

    it("leaves no empty provision-configs folder behind in a namespace that has no such chart", () => {
        const chart = path.join(nsDir, "provision-configs");
        const aside = path.join(root, "provision-configs-aside");
        fs.renameSync(chart, aside);
        try {
            const result = run(commands.install, "create");
            expect(result.status, result.stderr).toBe(0);
            // make-config embedded the app's configs for helmfile...
            expect(Object.keys(readTree(path.join(record, helmfileCalls()[0], "kaptain")))).toContain("app/a.conf");
            // ...and nothing of it stays in the repository.
            expect(fs.existsSync(chart)).toBe(false);
        } finally {
            fs.rmSync(chart, { recursive: true, force: true });
            fs.renameSync(aside, chart);
        }
        expectCleanedUp();
    });

    it("does what the program says, whatever KAPTAIN_* variables the shell running `pulumi up` holds", () => {
        const elsewhere = path.join(root, "other-cluster.kubeconfig");
        fs.writeFileSync(elsewhere, "apiVersion: v1\nkind: Config\n# another cluster\n");
        fs.rmSync(path.join(remote, "dev"), { recursive: true, force: true });
        const result = run(commands.install, "create", {
            env: { KAPTAIN_DRY_RUN: "1", KAPTAIN_KUBECONFIG: elsewhere, KAPTAIN_OUTPUT: "all" },
        });
        expect(result.status, result.stderr).toBe(0);
        // Not a dry run: make-config's rclone_config uploaded.
        expect(result.stdout + result.stderr).not.toContain("dry run: not copying");
        expect(fs.readdirSync(path.join(remote, "dev"))).toContain("tiles-config.tar.gz");
        // The Command's kubeconfig, not the other one.
        const kubeconfig = fs.readFileSync(path.join(record, helmfileCalls()[0], "kubeconfig"), "utf8");
        expect(kubeconfig.trimEnd()).toBe(KUBECONFIG_CONTENT.trimEnd());
        expectCleanedUp();
    });

    it("ignores a KAPTAIN_KUBECONFIG in the shell when the program gives none: the ambient KUBECONFIG counts", () => {
        const elsewhere = path.join(root, "other-cluster.kubeconfig");
        const ambient = path.join(root, "ambient.kubeconfig");
        fs.writeFileSync(elsewhere, "apiVersion: v1\nkind: Config\n# another cluster\n");
        fs.writeFileSync(ambient, "apiVersion: v1\nkind: Config\n# the ambient cluster\n");
        const result = run(ambientInstall, "create", { env: { KAPTAIN_KUBECONFIG: elsewhere, KUBECONFIG: ambient } });
        expect(result.status, result.stderr).toBe(0);
        expect(fs.readFileSync(path.join(record, helmfileCalls()[0], "kubeconfig"), "utf8")).toContain("ambient");
    });

    it("removes a stale provision-configs/.kaptain left by an interrupted run", () => {
        const stale = path.join(nsDir, "provision-configs", ".kaptain", "stale", "x");
        fs.mkdirSync(path.dirname(stale), { recursive: true });
        fs.writeFileSync(stale, "left over\n");
        expect(run(commands.install, "create").status).toBe(0);
        // What helmfile saw: this run's embedded configs, nothing of the interrupted one.
        const seen = Object.keys(readTree(path.join(record, "call-1", "kaptain")));
        expect(seen).toContain("app/a.conf");
        expect(seen).not.toContain("stale/x");
        expectCleanedUp();
    });
});

describe("config and provision", () => {
    it("config syncs the config releases, without --skip-needs", () => {
        expect(run(commands.config, "create").status).toBe(0);
        expect(argv()).toEqual([
            "--selector",
            "action=config",
            "apply",
            "--concurrency",
            "4",
            "--suppress-secrets",
            "--hide-notes",
        ]);
        expect(hookCalls().map(c => c.hook)).toEqual(["pre-config", "make-config", "post-config"]);
    });

    it("provision syncs the provision releases", () => {
        expect(run(commands.provision, "create").status).toBe(0);
        expect(argv()).toEqual([
            "--selector",
            "action=provision",
            "apply",
            "--concurrency",
            "4",
            "--skip-needs",
            "--suppress-secrets",
            "--hide-notes",
        ]);
        expect(hookCalls().map(c => c.hook)).toEqual(["pre-provision", "make-config", "post-provision"]);
    });
});

describe("delete", () => {
    it("install's delete is kaptain's uninstall", () => {
        const result = run(commands.install, "delete");
        expect(result.status).toBe(0);
        expect(argv()).toEqual(["--selector", "action=install", "destroy"]);
        expect(hookCalls().map(c => c.hook)).toEqual(["pre-uninstall", "post-uninstall"]);
        expectCleanedUp();
    });

    it("provision's delete is kaptain's unprovision, config's destroys the config releases", () => {
        run(commands.provision, "delete");
        run(commands.config, "delete");
        expect(argv("call-1")).toEqual(["--selector", "action=provision", "destroy"]);
        expect(argv("call-2")).toEqual(["--selector", "action=config", "destroy"]);
        expect(hookCalls().map(c => c.hook)).toEqual([
            "pre-unprovision",
            "post-unprovision",
            "pre-unconfig",
            "post-unconfig",
        ]);
    });

    it("runs when its namespace folder is gone, to name the releases that stay and the ways to remove them", () => {
        const aside = path.join(root, "dev-aside");
        fs.renameSync(nsDir, aside);
        try {
            // Before, the Command's dir was the folder: the provider's chdir failed, no script ran.
            const result = run(commands.install, "delete", { env: { HELM_STUB_RELEASES: "web\nfleet-7\n" } });
            expect(result.status).toBe(1);
            expect(helmfileCalls()).toEqual([]);
            expect(stepLines(result, "uninstall").slice(0, 5)).toEqual([
                `kaptain: uninstall: error: the namespace folder ./namespaces/dev is gone from ${fs.realpathSync(repo)}`,
                "kaptain: uninstall: error: so `helmfile --selector action=install destroy` cannot run: " +
                    "the releases this phase deployed stay in namespace dev",
                "kaptain: uninstall: error: releases in namespace dev now: web, fleet-7 " +
                    "(this phase's are those the selector above picks in the helmfile)",
                "kaptain: uninstall: error: to remove them, either restore the namespace folder ./namespaces/dev " +
                    "(git checkout) and run pulumi up again, which runs this delete; or uninstall them yourself " +
                    "(helm uninstall --namespace dev RELEASE...) and then remove this phase from the state " +
                    "(pulumi state delete URN; pulumi stack --show-urns lists them)",
                "kaptain: uninstall: error: failed during step 'preflight' (exit status 1)",
            ]);
            expect(fs.readFileSync(path.join(record, "helm-list"), "utf8").split("\n")).toEqual([
                "list",
                "--all",
                "--short",
                "--namespace",
                "dev",
                "",
            ]);
        } finally {
            fs.renameSync(aside, nsDir);
        }
        expectCleanedUp();
    });

    it("stops before helmfile when the helmfile it names is gone, saying what stays on which cluster", () => {
        const helmfile = path.join(repo, "helmfile.yaml");
        fs.renameSync(helmfile, `${helmfile}.gotmpl`);
        try {
            const result = run(filedInstall, "delete", { env: { HELM_STUB_LIST_EXIT: "1" } });
            expect(result.status).toBe(1);
            expect(helmfileCalls()).toEqual([]);
            expect(stepLines(result, "uninstall").slice(0, 3)).toEqual([
                "kaptain: uninstall: error: the helmfile ../../helmfile.yaml (relative to ./namespaces/prod) " +
                    `is gone from ${fs.realpathSync(repo)}`,
                "kaptain: uninstall: error: so `helmfile --file ../../helmfile.yaml --kube-context prod-ctx " +
                    "--selector action=install destroy` cannot run: the releases this phase deployed stay in namespace prod",
                "kaptain: uninstall: error: could not list the releases in namespace prod: " +
                    "run `helm --kube-context prod-ctx list --all --short --namespace prod`",
            ]);
            // The deploy itself names it too, before anything runs.
            const create = run(filedInstall, "create");
            expect(create.status).toBe(1);
            expect(create.stderr).toContain("kaptain: install: error: the helmfile ../../helmfile.yaml");
            expect(create.stderr).not.toContain("cannot run");
        } finally {
            fs.renameSync(`${helmfile}.gotmpl`, helmfile);
        }
        expect(run(filedInstall, "delete").status).toBe(0);
        expectCleanedUp();
    });

    it("still runs from state when hooks.sh has been removed since", () => {
        const hooks = path.join(nsDir, "hooks.sh");
        const saved = fs.readFileSync(hooks);
        fs.rmSync(hooks);
        try {
            expect(run(commands.install, "delete").status).toBe(0);
            expect(argv()).toEqual(["--selector", "action=install", "destroy"]);
        } finally {
            fs.writeFileSync(hooks, saved);
        }
    });
});

describe("the namespace guard", () => {
    // The command provider sets PULUMI_COMMAND_STDOUT to the guard's previous stdout.
    const previously = (namespace: string) => ({ PULUMI_COMMAND_STDOUT: `kaptain-namespace-guard: ${namespace}` });

    it("prints the namespace on its first run, for the next one, and deploys nothing", () => {
        const result = run(guard, "create");
        expect(result.status, result.stderr).toBe(0);
        expect(result.stdout).toBe("kaptain-namespace-guard: dev\n");
        expect(helmfileCalls()).toEqual([]);
        expectCleanedUp();
    });

    it("passes when the phases stay in the namespace they deployed into", () => {
        const result = run(guard, "create", { env: previously("dev") });
        expect(result.status, result.stderr).toBe(0);
        expect(result.stdout).toBe("kaptain-namespace-guard: dev\n");
    });

    it("stops a namespace change before anything deploys, naming the releases left behind and the way to move them", () => {
        const result = run(filedGuard, "create", {
            env: { ...previously("dev"), HELM_STUB_RELEASES: "web\nfleet-7\n" },
        });
        expect(result.status).toBe(1);
        expect(result.stdout).toBe("");
        expect(stepLines(result, "namespace-guard").slice(0, 3)).toEqual([
            "kaptain: namespace-guard: error: the phases deployed into namespace dev and would now deploy into prod, " +
                "leaving the releases in dev deployed and no longer managed: stopped before anything is deployed",
            "kaptain: namespace-guard: error: releases in namespace dev now: web, fleet-7",
            "kaptain: namespace-guard: error: to move them, turn the phases off and pulumi up (their delete scripts, " +
                "kept in the state, destroy the releases in dev), then turn them on again with namespace prod; " +
                "to keep dev as it is, set the namespace back to dev and deploy prod from another stack",
        ]);
        // On the phases' cluster: their kube context.
        expect(fs.readFileSync(path.join(record, "helm-list"), "utf8").trim().split("\n")).toEqual([
            "--kube-context",
            "prod-ctx",
            "list",
            "--all",
            "--short",
            "--namespace",
            "dev",
        ]);
        expectCleanedUp();
    });

    it("ignores a PULUMI_COMMAND_STDOUT that is not its own (pulumi run by another Command)", () => {
        const result = run(guard, "create", { env: { PULUMI_COMMAND_STDOUT: "staging" } });
        expect(result.status, result.stderr).toBe(0);
    });
});

describe("hostile paths", () => {
    it("never executes a command substitution found in a path", () => {
        expect(repo).toContain("$(touch pwned)");
        expect(run(commands.install, "create").status).toBe(0);
        expect(run(commands.install, "delete").status).toBe(0);
        const pwned = spawnSync("find", [root, programDirectory, "-maxdepth", "4", "-name", "pwned"], {
            encoding: "utf8",
        });
        expect(pwned.stdout.trim()).toBe("");
        expect(fs.existsSync(path.join(nsDir, "pwned"))).toBe(false);
    });
});

describe("a phase succeeds only when it reaches its end", () => {
    it("counts an `exit 0` in a hook as a failure naming the step, and runs no helmfile", () => {
        const result = run(commands.install, "create", {
            env: { FIXTURE_EVAL: "exit 0", FIXTURE_EVAL_HOOK: "pre-install" },
        });
        expect(result.status).toBe(1);
        expect(result.stderr).toContain(
            "kaptain: install: error: the phase's steps ended during step 'pre-install hook' before the phase finished",
        );
        expect(helmfileCalls()).toEqual([]);
        expectCleanedUp();
    });

    it("restores errexit after a hook's `set +e`: a failing helmfile fails the phase and the post hook never runs", () => {
        const result = run(commands.install, "create", {
            env: { FIXTURE_EVAL: "set +e", FIXTURE_EVAL_HOOK: "make-config", HELMFILE_EXIT: "5" },
        });
        expect(result.status).toBe(5);
        expect(result.stderr).toContain("failed during step 'helmfile apply' (exit status 5)");
        expect(hookCalls().map(c => c.hook)).toEqual(["pre-install", "make-config"]);
        expectCleanedUp();
    });

    it("stops when a hook that turned errexit off ends on a failed command", () => {
        const result = run(commands.install, "create", {
            env: { FIXTURE_EVAL: "set +e; false", FIXTURE_EVAL_HOOK: "pre-install" },
        });
        expect(result.status).toBe(1);
        expect(result.stderr).toContain("the hooks file returned status 1");
        expect(result.stderr).toContain("failed during step 'pre-install hook'");
        expect(helmfileCalls()).toEqual([]);
    });

    it("explains a hooks file that ends with a false `[ ... ] && cmd` list", () => {
        const hooks = path.join(nsDir, "hooks.sh");
        const saved = fs.readFileSync(hooks);
        fs.appendFileSync(hooks, '[ "$HOOK" = never ] && echo never\n');
        try {
            const result = run(commands.install, "create");
            expect(result.status).toBe(1);
            expect(result.stderr).toContain("failed during step 'pre-install hook'");
            expect(result.stderr).toContain("the hooks file ended with a non-zero status");
            expect(helmfileCalls()).toEqual([]);
        } finally {
            fs.writeFileSync(hooks, saved);
        }
    });

    it("runs helmfile in the namespace directory even after a hook moved elsewhere", () => {
        const result = run(commands.install, "create", {
            env: { FIXTURE_EVAL: "cd /", FIXTURE_EVAL_HOOK: "make-config" },
        });
        expect(result.status).toBe(0);
        expect(fs.readFileSync(path.join(record, "call-1", "cwd"), "utf8").trim()).toBe(fs.realpathSync(nsDir));
        expect(argv()).toEqual([
            "--selector",
            "action=install",
            "apply",
            "--concurrency",
            "4",
            "--skip-needs",
            "--suppress-secrets",
            "--hide-notes",
        ]);
    });

    it("keeps its cleanup when a hook replaces the EXIT trap", () => {
        const result = run(commands.install, "create", {
            env: { FIXTURE_EVAL: "trap 'echo hook-trap' EXIT", FIXTURE_EVAL_HOOK: "make-config", HELMFILE_EXIT: "2" },
        });
        expect(result.status).toBe(2);
        expect(result.stderr).toContain("failed during step 'helmfile apply'");
        expectCleanedUp();
    });

    it("keeps kaptain's contract: what a hook declares or exports reaches helmfile", () => {
        const result = run(commands.install, "create", {
            env: {
                FIXTURE_EVAL: "declare -x DECLARED=from-hook; export EXPORTED=also",
                FIXTURE_EVAL_HOOK: "make-config",
            },
        });
        expect(result.status).toBe(0);
        expect(helmfileEnv()).toMatchObject({ DECLARED: "from-hook", EXPORTED: "also" });
    });
});

describe("what a hook does to its shell ends with the steps", () => {
    it("counts an `exec` in a hook as a failure naming the step, runs no helmfile, and cleans up", () => {
        const result = run(commands.install, "create", {
            env: { FIXTURE_EVAL: "exec true", FIXTURE_EVAL_HOOK: "pre-install" },
        });
        expect(result.status).toBe(1);
        expect(result.stderr).toContain(
            "kaptain: install: error: the phase's steps ended during step 'pre-install hook' before the phase finished" +
                " (an `exit` or `exec` in a hook?): counted as a failure",
        );
        expect(helmfileCalls()).toEqual([]);
        expectCleanedUp();
    });

    it("keeps a hook's `exec >file 2>&1`, which sends what follows to a log, as in kaptain", () => {
        const result = run(logged.all, "create", {
            env: {
                FIXTURE_EVAL: 'exec >"$FIXTURE_RECORD/hook.log" 2>&1; echo TO-THE-LOG; echo ALSO >&2',
                FIXTURE_EVAL_HOOK: "make-config",
            },
        });
        expect(result.status, result.stderr).toBe(0);
        expect(fs.readFileSync(path.join(record, "hook.log"), "utf8")).toBe("TO-THE-LOG\nALSO\n");
        expect(`${result.stdout}${result.stderr}`).not.toContain("TO-THE-LOG");
        expect(helmfileCalls()).toEqual(["call-1"]);
        expect(stepLines(result)).toContain("kaptain: install: done");
    });

    it("cleans up and names the failure when a hook sets its own EXIT trap and then fails", () => {
        const result = run(commands.install, "create", {
            env: { FIXTURE_EVAL: "trap 'echo HOOK-TRAP >&2' EXIT; false", FIXTURE_EVAL_HOOK: "make-config" },
        });
        expect(result.status).toBe(1);
        expect(result.stderr).toContain("HOOK-TRAP");
        expect(result.stderr).toContain(
            "kaptain: install: error: failed during step 'make-config hook' (exit status 1)",
        );
        expect(result.stderr).toMatch(/kaptain: install: error: the failing command: .*hooks\.sh:\d+: eval /);
        expect(helmfileCalls()).toEqual([]);
        // The lock's note, provision-configs/.kaptain (make-config embedded) and the temporary
        // folder with the kubeconfig.
        expectCleanedUp();
    });

    it("stops what a hook left running, naming it, so that the phase's output closes", () => {
        const result = run(commands.install, "create", {
            env: {
                FIXTURE_EVAL: 'sleep 1000 & echo "$!" >"$FIXTURE_RECORD/left.pid"',
                FIXTURE_EVAL_HOOK: "pre-install",
            },
        });
        const left = recordedPid("left.pid");
        try {
            expect(result.status, result.stderr).toBe(0);
            expect(result.stderr).toMatch(
                new RegExp(`kaptain: install: stopping what the hooks left running: .*${left} \\(sleep\\)`),
            );
            expect(running(left!)).toBe(false);
            expect(stepLines(result).at(-1)).toBe("kaptain: install: done");
        } finally {
            if (left !== undefined && running(left)) {
                process.kill(left, "SIGKILL");
            }
        }
    });

    it("kills what a hook left running that ignores TERM", () => {
        const result = run(commands.install, "create", {
            env: {
                FIXTURE_EVAL: `(trap '' TERM; exec sleep 1000) & echo "$!" >"$FIXTURE_RECORD/left.pid"`,
                FIXTURE_EVAL_HOOK: "post-install",
            },
        });
        const left = recordedPid("left.pid");
        try {
            expect(result.status, result.stderr).toBe(0);
            expect(result.stderr).toMatch(new RegExp(`still running after TERM, killed: .*${left} \\(sleep\\)`));
            expect(running(left!)).toBe(false);
        } finally {
            if (left !== undefined && running(left)) {
                process.kill(left, "SIGKILL");
            }
        }
    });

    it("passes a TERM on to helmfile, waits for it, cleans up and names the step", async () => {
        const { run: a, release } = heldInstall();
        try {
            const helmfile = await until("helmfile to start", () => startedHelmfile());
            a.child.kill("SIGTERM");
            const result = await a.result;
            expect(result.status).toBe(143);
            expect(result.stderr).toContain("failed during step 'helmfile apply' (exit status 143)");
            expect(running(helmfile)).toBe(false);
            expect(hookCalls().map(c => c.hook)).toEqual(["pre-install", "make-config"]);
            expectCleanedUp();
        } finally {
            await settle(release, a);
        }
    });
    it("kills the steps on a second signal when helmfile does not stop on the first", async () => {
        const { run: a, release } = heldInstall({ HELMFILE_IGNORE_TERM: "1" });
        try {
            const helmfile = await until("helmfile to start", () => startedHelmfile());
            a.child.kill("SIGTERM");
            await until("the script to pass the signal on", () => a.stderr().includes("a second signal kills them"));
            expect(running(helmfile)).toBe(true);
            a.child.kill("SIGTERM");
            const result = await a.result;
            expect(result.status).toBe(143);
            expect(running(helmfile)).toBe(false);
            expectCleanedUp();
        } finally {
            await settle(release, a);
        }
    });
});

describe("logging: what leaves the script", () => {
    const noisy = { FIXTURE_EVAL: "echo HOOK-STDOUT; echo HOOK-STDERR >&2", FIXTURE_EVAL_HOOK: "make-config" };

    it.each([
        ["all", true, true],
        ["stderr", false, true],
        ["steps", false, false],
    ] as const)("%s: hook stdout shown %s, hook stderr shown %s, step lines always", (mode, stdout, stderr) => {
        const result = run(logged[mode], "create", { env: noisy });
        expect(result.status).toBe(0);
        // What is let through goes to stderr: the create script's stdout is its record.
        expect(result.stderr.includes("HOOK-STDOUT")).toBe(stdout);
        expect(result.stderr.includes("HOOK-STDERR")).toBe(stderr);
        expect(result.stdout).toMatch(/^kaptain-manifest 1\nKAPTAIN_SHARED=[0-9a-f]{64}\n$/);
        expect(stepLines(result)).toContain("kaptain: install: helmfile apply");
    });

    it("sends a delete's output to stderr too, which the Command logs: its stdout stays empty", () => {
        const result = run(logged.all, "delete", { env: { ...noisy, FIXTURE_EVAL_HOOK: "pre-uninstall" } });
        expect(result.status, result.stderr).toBe(0);
        expect(result.stderr).toContain("HOOK-STDOUT");
        expect(result.stderr).toContain("HOOK-STDERR");
        expect(result.stdout).toBe("");
    });

    it("says on failure that output was held back, and how to see it", () => {
        const result = run(logged.steps, "create", { env: { HELMFILE_EXIT: "4" } });
        expect(result.status).toBe(4);
        expect(result.stderr).toContain("failed during step 'helmfile apply' (exit status 4)");
        expect(result.stderr).toContain("limited by logging 'steps'; set logging to 'all' to see it");
    });
});

describe("one run at a time per repository", () => {
    it("serialises two phases started at once: their helmfile runs never overlap and each sees its embedded configs", async () => {
        const env = {
            HELMFILE_RECORD: record,
            FIXTURE_RECORD: record,
            XDG_RUNTIME_DIR: runtimeDir,
            HELMFILE_SLEEP: "1",
        };
        const [a, b] = await Promise.all([
            startCaptured(commands.install, "create", { programDirectory, env }),
            startCaptured(commands.config, "create", { programDirectory, env }),
        ]);
        expect(a.status).toBe(0);
        expect(b.status).toBe(0);
        const calls = expectTwoHelmfileRunsApart();
        for (const call of calls) {
            // Without the lock, the other run's cleanup removes .kaptain while helmfile sleeps.
            expect(Object.keys(readTree(path.join(record, call, "kaptain")))).toContain("app/a.conf");
        }
        expect(`${a.stderr}${b.stderr}`).toMatch(
            /waiting for the repository's lock \(up to 1800 s\), held by (install|config) of namespace dev \(process \d+ on /,
        );
        expectCleanedUp();
    });

    it("serialises the phases of two namespaces too: they share the repository's charts", async () => {
        const env = { HELMFILE_RECORD: record, XDG_RUNTIME_DIR: runtimeDir, HELMFILE_SLEEP: "1" };
        const [a, b] = await Promise.all([
            startCaptured(commands.install, "create", { programDirectory, env }),
            startCaptured(prodInstall, "create", { programDirectory, env }),
        ]);
        expect(a.status, a.stderr).toBe(0);
        expect(b.status, b.stderr).toBe(0);
        expectTwoHelmfileRunsApart();
        expectCleanedUp();
    });

    it("takes the lock whose holder was killed, and says so", () => {
        // The link an earlier pulumi-kaptain locked with, naming a pid above the kernel's pid_max.
        fs.symlinkSync("99999999", path.join(repo, ".kaptain-lock"));
        const result = run(commands.install, "create");
        expect(result.status).toBe(0);
        expect(result.stderr).toContain(
            "taking the lock, last held by process 99999999 (an earlier pulumi-kaptain), which ended without cleaning up (killed?)",
        );
        expectCleanedUp();
    });

    it.each([
        ["the link of an earlier pulumi-kaptain", (lock: string) => fs.symlinkSync(String(process.pid), lock)],
        [
            "a holder's note",
            (lock: string) =>
                fs.writeFileSync(
                    lock,
                    `pid=${process.pid}\nstarted=1\naction=config\nnamespace=prod\nhost=${os.hostname()}\nsince=2025-01-01T00:00:00Z\n`,
                ),
        ],
    ])("does not wait for a live process that %s names but that holds no lock (a reused pid)", (_, leave) => {
        leave(path.join(repo, ".kaptain-lock"));
        const result = run(commands.install, "create");
        expect(result.status, result.stderr).toBe(0);
        expect(result.stderr).toContain(`taking the lock, last held by `);
        expect(result.stderr).toContain(`process ${process.pid}`);
        expectCleanedUp();
    });

    it("lets only one of two phases take a stale lock at once", async () => {
        // A slow `rm` of a lock link widens the window between checking the holder and removing
        // the link: the first phase to remove it takes 1 s, the other 2 s, so that the other,
        // having found the same stale holder, removes the link the first one has just made.
        const slow = fs.mkdtempSync(path.join(root, "slow-rm-"));
        const rm = spawnSync("bash", ["-c", "command -v rm"], { encoding: "utf8" }).stdout.trim();
        fs.writeFileSync(
            path.join(slow, "rm"),
            [
                "#!/usr/bin/env bash",
                'for a in "$@"; do',
                `  if [ -L "$a" ]; then if mkdir ${JSON.stringify(path.join(slow, "first"))} 2>/dev/null; then sleep 1; else sleep 2; fi; fi`,
                "done",
                `exec ${rm} "$@"`,
                "",
            ].join("\n"),
            { mode: 0o755 },
        );
        fs.symlinkSync("99999999", path.join(repo, ".kaptain-lock"));
        const env = {
            HELMFILE_RECORD: record,
            FIXTURE_RECORD: record,
            XDG_RUNTIME_DIR: runtimeDir,
            HELMFILE_SLEEP: "3",
            PATH: `${slow}:${process.env.PATH}`,
        };
        const [a, b] = await Promise.all([
            startCaptured(commands.install, "create", { programDirectory, env }),
            startCaptured(commands.config, "create", { programDirectory, env }),
        ]);
        expect(a.status, a.stderr).toBe(0);
        expect(b.status, b.stderr).toBe(0);
        expectTwoHelmfileRunsApart();
        expectCleanedUp();
    });

    it("keeps the lock while the helmfile of a phase killed with SIGKILL still deploys, and names what holds it", async () => {
        const release = path.join(record, "release");
        const env = { HELMFILE_RECORD: record, FIXTURE_RECORD: record, XDG_RUNTIME_DIR: runtimeDir };
        const a = spawnCaptured(commands.install, "create", {
            programDirectory,
            env: { ...env, HELMFILE_WAIT_FOR: release },
        });
        let b: StartedRun | undefined;
        try {
            const helmfile = await until("the first helmfile to start", () => startedHelmfile());
            // The command provider's cancel: SIGKILL to the script, and to nothing else.
            a.child.kill("SIGKILL");
            // A phase of the same namespace: taking the lock, it would clean up provision-configs/.kaptain.
            const second = spawnCaptured(commands.config, "create", { programDirectory, env });
            b = second;
            await until(
                "the second phase to wait or end",
                () => second.stderr().includes("waiting for the repository's lock") || second.child.exitCode !== null,
            );
            expect(running(helmfile)).toBe(true);
            expect(helmfileCalls()).toEqual(["call-1"]);
            expect(second.stderr()).toContain(
                `held by install of namespace dev (process ${a.child.pid} on ${os.hostname()}, since `,
            );
            expect(second.stderr()).toMatch(
                new RegExp(
                    // The fake helmfile is a bash script: its process is named bash.
                    `whose script has ended \\(killed\\?\\) while what it started still runs and holds the lock: .*\\b${helmfile} \\(bash\\)`,
                ),
            );
            expect(second.stderr()).toMatch(/it is released when they end \(to stop them: kill -TERM -- -\d+\)/);
        } finally {
            await settle(release, a, b);
        }
        expect((await a.result).signal).toBe("SIGKILL");
        expect(b).toBeDefined();
        const second = await (b as StartedRun).result;
        expect(second.status, second.stderr).toBe(0);
        expectTwoHelmfileRunsApart();
        // The killed phase's helmfile read its embedded configs to the end.
        expect(Object.keys(readTree(path.join(record, "call-1", "kaptain")))).toContain("app/a.conf");
        expect(fs.lstatSync(path.join(repo, ".kaptain-lock"), { throwIfNoEntry: false })).toBeUndefined();
        expect(fs.existsSync(path.join(nsDir, "provision-configs", ".kaptain"))).toBe(false);
    });

    it("gives up after PULUMI_KAPTAIN_LOCK_TIMEOUT seconds, naming the holder and how the lock is released", async () => {
        const release = path.join(record, "release");
        const env = { HELMFILE_RECORD: record, FIXTURE_RECORD: record, XDG_RUNTIME_DIR: runtimeDir };
        const a = spawnCaptured(commands.install, "create", {
            programDirectory,
            env: { ...env, HELMFILE_WAIT_FOR: release },
        });
        try {
            await until("the first helmfile to start", () => startedHelmfile());
            const b = await startCaptured(prodInstall, "create", {
                programDirectory,
                env: { ...env, PULUMI_KAPTAIN_LOCK_TIMEOUT: "1" },
            });
            expect(b.status).toBe(1);
            expect(b.stderr).toContain(
                `kaptain: install: error: the repository's lock (${fs.realpathSync(repo)}) is still held after 1 s, ` +
                    `by install of namespace dev (process ${a.child.pid} on ${os.hostname()}, since `,
            );
            expect(b.stderr).toContain(`: it is released when that phase ends (to stop it: kill -TERM ${a.child.pid})`);
            expect(b.stderr).toContain("removing .kaptain-lock does not release it");
            expect(b.stderr).toContain(
                "set PULUMI_KAPTAIN_LOCK_TIMEOUT (seconds) in the Infrastructure's `environment`",
            );
            expect(helmfileCalls()).toEqual(["call-1"]);
        } finally {
            await settle(release, a);
        }
        expect((await a.result).status).toBe(0);
        expectCleanedUp();
    });

    it("refuses a PULUMI_KAPTAIN_LOCK_TIMEOUT that is not a whole number of seconds, before any hook runs", () => {
        const result = run(commands.install, "create", { env: { PULUMI_KAPTAIN_LOCK_TIMEOUT: "30m" } });
        expect(result.status).toBe(1);
        expect(result.stderr).toContain(
            "kaptain: install: error: PULUMI_KAPTAIN_LOCK_TIMEOUT must be a whole number of seconds, got '30m'",
        );
        expect(hookCalls()).toEqual([]);
        expectCleanedUp();
    });

    it("leaves the embedded configs of a run that holds the lock alone when it fails before taking it", () => {
        const embed = path.join(nsDir, "provision-configs", ".kaptain", "other-run");
        fs.mkdirSync(embed, { recursive: true });
        try {
            const result = run(commands.install, "create", { stubHelmfile: false, env: { PATH: "/usr/bin:/bin" } });
            expect(result.status).toBe(1);
            expect(fs.existsSync(embed)).toBe(true);
        } finally {
            fs.rmSync(path.join(nsDir, "provision-configs", ".kaptain"), { recursive: true, force: true });
        }
    });
});

describe("strategy: which releases a phase upgrades", () => {
    it("apply (the default) checks for helm and helm-diff first, and names the way out when the plugin is missing", () => {
        const result = run(commands.install, "create", { env: { HELM_STUB_NO_DIFF: "1" } });
        expect(result.status).toBe(1);
        expect(result.stderr).toContain("kaptain: install: error: helm-diff is required by the 'apply' strategy");
        expect(result.stderr).toContain("set helmfile.strategy (or the phase's strategy) to 'sync'");
        expect(hookCalls()).toEqual([]);
        expect(helmfileCalls()).toEqual([]);
        expectCleanedUp();
    });

    it("sync upgrades every release, as kaptain does, and needs no helm-diff", () => {
        const result = run(synced, "create", { env: { HELM_STUB_NO_DIFF: "1" } });
        expect(result.status).toBe(0);
        expect(argv()).toEqual([
            "--selector",
            "action=install",
            "sync",
            "--concurrency",
            "4",
            "--skip-needs",
            "--hide-notes",
        ]);
    });

    it("the delete script needs no helm-diff: destroy diffs nothing", () => {
        expect(run(commands.install, "delete", { env: { HELM_STUB_NO_DIFF: "1" } }).status).toBe(0);
        expect(argv()).toEqual(["--selector", "action=install", "destroy"]);
    });
});

/** A digest of 64 times `c`. */
const digest = (c: string) => c.repeat(64);

/** A phase as a program with inputs per release registers it: `inputs` join its environment. */
function withInputs(cmd: CapturedCommand, inputs: Record<string, string | undefined>): CapturedCommand {
    const environment = { ...cmd.environment, ...inputs };
    for (const [key, value] of Object.entries(inputs)) {
        if (value === undefined) {
            delete environment[key];
        }
    }
    return { ...cmd, environment: environment as Record<string, string> };
}

/** What the command provider hands an update: the previous run's outputs, trailing newline trimmed. */
function previousOutput(previous: { stdout: string; stderr: string }): Record<string, string> {
    return {
        PULUMI_COMMAND_STDOUT: previous.stdout.replace(/\n$/, ""),
        PULUMI_COMMAND_STDERR: previous.stderr.replace(/\n$/, ""),
    };
}

/** The install phase's inputs at its last successful run: shared ones, and two groups of releases. */
const deployed = {
    KAPTAIN_SHARED: digest("a"),
    KAPTAIN_LIVE_DIFF: "none",
    KAPTAIN_RELEASE_web: `${digest("b")} web`,
    // Two releases whose names sanitise to one variable name.
    KAPTAIN_RELEASE_fleet_3: `${digest("c")} fleet-3 fleet.3`,
};

/** The words of a helmfile call after its selectors: the install phase's apply. */
const APPLY = ["apply", "--concurrency", "4", "--skip-needs", "--suppress-secrets", "--hide-notes"];

describe("the record: the create script's stdout", () => {
    it("is the record of its inputs, and nothing else, whatever the hooks and helmfile print", () => {
        const result = run(withInputs(logged.all, deployed), "create", {
            env: { FIXTURE_EVAL: "echo HOOK-STDOUT; echo HOOK-STDERR >&2", FIXTURE_EVAL_HOOK: "make-config" },
        });
        expect(result.status, result.stderr).toBe(0);
        expect(result.stdout).toBe(
            [
                "kaptain-manifest 1",
                `KAPTAIN_SHARED=${digest("a")}`,
                "KAPTAIN_LIVE_DIFF=none",
                `KAPTAIN_RELEASE_fleet_3=${digest("c")} fleet-3 fleet.3`,
                `KAPTAIN_RELEASE_web=${digest("b")} web`,
                "",
            ].join("\n"),
        );
        // logging: all lets the hooks' stdout through, on stderr.
        expect(result.stderr).toContain("HOOK-STDOUT");
        expect(result.stderr).toContain("HOOK-STDERR");
        expect(result.stderr).toContain("kaptain: embedding app config ...");
    });

    it("is empty when the phase fails: the next update compares with the last successful run", () => {
        const result = run(withInputs(commands.install, deployed), "create", { env: { HELMFILE_EXIT: "3" } });
        expect(result.status).toBe(3);
        expect(result.stdout).toBe("");
    });
});

describe("an update runs only the releases whose inputs changed", () => {
    it("runs helmfile for the one release whose inputs changed, with the hooks as always", () => {
        const first = run(withInputs(commands.install, deployed), "create");
        expect(first.status, first.stderr).toBe(0);
        expect(stepLines(first)).toContain(
            "kaptain: install: helmfile runs for the whole phase: no record of a previous run to compare with " +
                "(a create, or a state from before pulumi-kaptain kept one)",
        );
        const edited = { ...deployed, KAPTAIN_RELEASE_web: `${digest("d")} web` };
        const second = run(withInputs(commands.install, edited), "create", { env: previousOutput(first) });
        expect(second.status, second.stderr).toBe(0);
        expect(argv("call-2")).toEqual(["--selector", "action=install,name=web", ...APPLY]);
        expect(stepLines(second)).toEqual([
            "kaptain: install: pre-install hook",
            "kaptain: install: make-config hook",
            "kaptain: install: copy rclone.conf into provision-configs/.kaptain",
            "kaptain: install: releases whose inputs changed: web (helmfile runs for them only)",
            "kaptain: install: helmfile apply",
            "kaptain: install: post-install hook",
            "kaptain: install: done",
        ]);
        expect(hookCalls().map(c => c.hook)).toEqual([
            ...["pre-install", "make-config", "post-install"],
            ...["pre-install", "make-config", "post-install"],
        ]);
        // The record is the new one, for the update after.
        expect(second.stdout).toContain(`\nKAPTAIN_RELEASE_web=${digest("d")} web\n`);
        expectCleanedUp();
    });

    it("runs every release a changed variable names, and those of a new one", () => {
        const first = run(withInputs(commands.install, deployed), "create");
        const edited = {
            ...deployed,
            KAPTAIN_RELEASE_fleet_3: `${digest("e")} fleet-3 fleet.3`,
            KAPTAIN_RELEASE_api: `${digest("f")} api`,
        };
        const second = run(withInputs(commands.install, edited), "create", { env: previousOutput(first) });
        expect(second.status, second.stderr).toBe(0);
        expect(argv("call-2")).toEqual([
            ...["--selector", "action=install,name=api"],
            ...["--selector", "action=install,name=fleet-3"],
            ...["--selector", "action=install,name=fleet.3"],
            ...APPLY,
        ]);
        expect(stepLines(second)).toContain(
            "kaptain: install: releases whose inputs changed: api, fleet-3, fleet.3 (helmfile runs for them only)",
        );
    });

    const WHOLE = "kaptain: install: helmfile runs for the whole phase: ";
    const webEdited = { KAPTAIN_RELEASE_web: `${digest("d")} web` };
    it.each([
        {
            case: "a create: no previous run",
            now: webEdited,
            previous: () => ({}),
            reason: "no record of a previous run to compare with (a create, or a state from before pulumi-kaptain kept one)",
        },
        {
            case: "a state from before: helmfile's output on stdout",
            now: webEdited,
            previous: () => ({ PULUMI_COMMAND_STDOUT: "Comparing release=web, chart=bitnami/nginx" }),
            reason: "no record of a previous run to compare with (a create, or a state from before pulumi-kaptain kept one)",
        },
        {
            case: "a shared input changed",
            now: { ...webEdited, KAPTAIN_SHARED: digest("9") },
            reason: "an input that all its releases share changed (KAPTAIN_SHARED)",
        },
        {
            case: "no KAPTAIN_SHARED (an older program), said as before: not at all",
            now: { ...webEdited, KAPTAIN_SHARED: undefined },
            reason: undefined,
        },
        {
            case: "the live diff found drift",
            now: { ...webEdited, KAPTAIN_LIVE_DIFF: "2026-12-01T05:00:00Z ~redis(1 changed)" },
            reason: "the live diff found changes in the cluster (KAPTAIN_LIVE_DIFF: 2026-12-01T05:00:00Z ~redis(1 changed))",
        },
        {
            case: "releases whose own inputs are gone",
            now: { ...webEdited, KAPTAIN_RELEASE_fleet_3: undefined },
            reason: "KAPTAIN_RELEASE_fleet_3 (fleet-3 fleet.3) is gone: those releases have no inputs of their own any more",
        },
        {
            case: "a release name with a comma",
            now: { KAPTAIN_RELEASE_web: `${digest("d")} web,tier=db` },
            reason:
                "KAPTAIN_RELEASE_web names a release that is not a plain label value (letters, digits, '.', '_', '-'): " +
                "'web,tier=db'",
        },
        {
            case: "nothing of the record changed",
            now: {},
            reason: "none of the inputs in its record changed since the last run (another input did)",
        },
    ])("runs the whole phase when $case", ({ now, previous, reason }) => {
        const first = run(withInputs(commands.install, deployed), "create");
        expect(first.status, first.stderr).toBe(0);
        const second = run(withInputs(commands.install, { ...deployed, ...now }), "create", {
            env: previous !== undefined ? previous() : previousOutput(first),
        });
        expect(second.status, second.stderr).toBe(0);
        expect(argv("call-2")).toEqual(["--selector", "action=install", ...APPLY]);
        const said = stepLines(second).filter(l => l.startsWith(WHOLE) || l.includes("releases whose inputs"));
        expect(said).toEqual(reason !== undefined ? [`${WHOLE}${reason}`] : []);
        expect(
            hookCalls()
                .map(c => c.hook)
                .slice(3),
        ).toEqual(["pre-install", "make-config", "post-install"]);
    });

    it("keeps deploying the whole phase on a drift found again, and narrows when the finding is back to none", () => {
        const drift = { ...deployed, KAPTAIN_LIVE_DIFF: "2026-12-01T05:00:00Z ~web(1 changed)" };
        const first = run(withInputs(commands.install, drift), "create");
        const later = { ...deployed, ...webEdited, KAPTAIN_LIVE_DIFF: "none" };
        const second = run(withInputs(commands.install, later), "create", { env: previousOutput(first) });
        expect(second.status, second.stderr).toBe(0);
        expect(argv("call-2")).toEqual(["--selector", "action=install,name=web", ...APPLY]);
    });

    it("keeps the delete on the phase's selectors", () => {
        const first = run(withInputs(commands.install, deployed), "create");
        const edited = withInputs(commands.install, { ...deployed, ...webEdited });
        expect(run(edited, "delete", { env: previousOutput(first) }).status).toBe(0);
        expect(argv("call-2")).toEqual(["--selector", "action=install", "destroy"]);
    });
});

describe("the create script's stderr stays small enough to come back to its next run", () => {
    /** 3,000 numbered lines of 100 bytes on the make-config hook's stderr: 303,000 bytes. */
    const flood = {
        FIXTURE_EVAL: `awk 'BEGIN { for (i = 1; i <= 3000; i++) printf "hook line %05d %084d\\n", i, 0 }' >&2`,
        FIXTURE_EVAL_HOOK: "make-config",
    };

    it("lets 64 KiB through, says how much it left out, keeps the last lines, and the next run starts", () => {
        const first = run(withInputs(commands.install, deployed), "create", { env: flood });
        expect(first.status, first.stderr).toBe(0);
        expect(Buffer.byteLength(first.stderr)).toBeLessThanOrEqual(100 * 1024);
        const lines = first.stderr.split("\n");
        expect(lines).toContain(`hook line 00001 ${"0".repeat(84)}`);
        expect(lines).toContain(
            "kaptain: install: output past 64 KiB is held back: its last lines follow when the phase ends",
        );
        const leftOut = lines.findIndex(l =>
            /^kaptain: install: \d+ bytes \(\d+ lines\) of output left out here/.test(l),
        );
        expect(leftOut).toBeGreaterThan(0);
        // After it, in their order: the end of the hook's output, then kaptain's steps.
        expect(lines.slice(leftOut + 1).filter(l => !l.startsWith("hook line "))).toEqual([
            "kaptain: install: copy rclone.conf into provision-configs/.kaptain",
            "kaptain: install: helmfile runs for the whole phase: no record of a previous run to compare with " +
                "(a create, or a state from before pulumi-kaptain kept one)",
            "kaptain: install: helmfile apply",
            "kaptain: install: post-install hook",
            "kaptain: install: done",
            "",
        ]);
        expect(lines[leftOut + 1]).toMatch(/^hook line \d{5} 0{84}$/);
        expect(lines).toContain(`hook line 03000 ${"0".repeat(84)}`);
        // As the command provider runs the next update: this stderr and the record in its environment.
        const next = run(withInputs(commands.install, deployed), "create", { env: previousOutput(first) });
        expect(next.status, next.stderr).toBe(0);
        // Which the kernel refuses for what the hook wrote: one variable is capped at 128 KiB.
        expect(() => run(commands.install, "create", { env: { PULUMI_COMMAND_STDERR: "x".repeat(300_000) } })).toThrow(
            /E2BIG/,
        );
    });

    it("still names the failing step, after the end of the output", () => {
        const result = run(commands.install, "create", { env: { ...flood, HELMFILE_EXIT: "3" } });
        expect(result.status).toBe(3);
        expect(Buffer.byteLength(result.stderr)).toBeLessThanOrEqual(100 * 1024);
        expect(result.stderr).toMatch(/ of output left out here/);
        expect(result.stderr).toContain(
            "kaptain: install: error: failed during step 'helmfile apply' (exit status 3)\n",
        );
        expect(result.stdout).toBe("");
        expectCleanedUp();
    });

    it("streams line by line while the phase runs", async () => {
        const go = path.join(record, "go");
        const started = spawnCaptured(commands.install, "create", {
            programDirectory,
            env: {
                HELMFILE_RECORD: record,
                FIXTURE_RECORD: record,
                XDG_RUNTIME_DIR: runtimeDir,
                FIXTURE_EVAL: `echo HOOK-SAYS-HELLO >&2; while [ ! -e "$FIXTURE_RECORD/go" ]; do sleep 0.05; done`,
            },
        });
        try {
            await until("the hook's line to come through", () => started.stderr().includes("HOOK-SAYS-HELLO\n"));
        } finally {
            fs.writeFileSync(go, "");
        }
        const result = await started.result;
        expect(result.status, result.stderr).toBe(0);
        // Everything came through before the script ended.
        expect(result.stderr.endsWith("kaptain: install: done\n")).toBe(true);
    });

    it("relays the steps to their end when the script is killed (SIGKILL) while they run", async () => {
        const { run: a, release } = heldInstall();
        try {
            await until("helmfile to start", () => startedHelmfile());
            a.child.kill("SIGKILL");
        } finally {
            await settle(release, a);
        }
        const result = await a.result;
        expect(result.signal).toBe("SIGKILL");
        // The steps went on without the script, and what they printed still came through.
        expect(stepLines(result)).toContain("kaptain: install: post-install hook");
        // What the killed script would have removed.
        fs.rmSync(path.join(repo, ".kaptain-lock"), { force: true });
        fs.rmSync(path.join(nsDir, "provision-configs", ".kaptain"), { recursive: true, force: true });
    });

    it("hands neither of the previous run's outputs to hooks or helmfile", () => {
        const env = {
            PULUMI_COMMAND_STDOUT: "kaptain-manifest 1",
            PULUMI_COMMAND_STDERR: "kaptain: install: done",
            FIXTURE_EVAL: 'env >>"$FIXTURE_RECORD/hook-env"',
        };
        expect(run(commands.install, "create", { env }).status).toBe(0);
        expect(run(commands.install, "delete", { env: { ...env, FIXTURE_EVAL_HOOK: "pre-uninstall" } }).status).toBe(0);
        const seen = fs.readFileSync(path.join(record, "hook-env"), "utf8");
        expect(seen).toContain("KAPTAIN_NAMESPACE=dev");
        expect(seen).not.toContain("PULUMI_COMMAND_");
        for (const call of helmfileCalls()) {
            expect(Object.keys(helmfileEnv(call)).filter(k => k.startsWith("PULUMI_COMMAND_"))).toEqual([]);
        }
    });
});
