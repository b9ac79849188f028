import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { isKubeconfigContent } from "../../sdk/kubeconfig";
import { HELPERS_PATH } from "../../sdk/script/helpers";
import { isLockTimeout } from "../../sdk/script/phase-script";
import { BIG_KUBECONFIG, readTree, tempDir, writeTree } from "../support/fixture";

const KUBECONFIG = "apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user: {token: not-for-disk}\n";

/**
 * Runs `body` in bash with helpers.sh sourced and kaptain's variables set for `dir`.
 * KAPTAIN_* variables of `env` are set after the helpers, as the phase scripts set theirs
 * (the helpers drop any the shell brought along).
 */
function bash(dir: string, body: string, env: Record<string, string> = {}, input = "") {
    const own = Object.entries(env).filter(([k]) => k.startsWith("KAPTAIN_"));
    const script = [
        "set -eo pipefail",
        "exec 3>&2",
        `source ${JSON.stringify(HELPERS_PATH)}`,
        ...own.map(([k, v]) => `export ${k}=${JSON.stringify(v)}`),
        "KAPTAIN_ACTION=test",
        `export KAPTAIN_NAMESPACE=dev KAPTAIN_WORKING_DIRECTORY="$PWD" KAPTAIN_NAMESPACE_DIRECTORY="$PWD/namespaces/dev"`,
        `KAPTAIN_EMBED_DIRECTORY="$KAPTAIN_NAMESPACE_DIRECTORY/provision-configs/.kaptain"`,
        // In the test's folder, which is removed after the file's tests.
        `KAPTAIN_TMP=$(mktemp -d "$PWD/kaptain-tmp.XXXXXXXX")`,
        body,
    ].join("\n");
    return spawnSync("bash", ["-c", script], {
        cwd: dir,
        encoding: "utf8",
        env: { ...process.env, ...env },
        input,
        maxBuffer: 64 * 1024 * 1024,
        timeout: 60_000,
    });
}

describe("merge_config", () => {
    it("copies COMMON then LOCAL, LOCAL wins, values.yaml* at any depth left out", () => {
        const dir = tempDir();
        writeTree(dir, {
            "common/a": "common-a",
            "common/b": "common-b",
            "common/deep/c": "common-c",
            "common/values.yaml": "v",
            "common/deep/values.yaml.gotmpl": "v",
            "local/a": "local-a",
            "local/deep/c": "local-c",
            "local/values.yaml.local": "v",
        });
        const r = bash(dir, "merge_config common local out");
        expect(r.status).toBe(0);
        expect(readTree(path.join(dir, "out"))).toEqual({ a: "local-a", b: "common-b", "deep/c": "local-c" });
        // Sources are untouched.
        expect(fs.existsSync(path.join(dir, "common", "values.yaml"))).toBe(true);
    });

    it("skips a source folder that does not exist", () => {
        const dir = tempDir();
        writeTree(dir, { "local/a": "local-a" });
        expect(bash(dir, "merge_config missing local out").status).toBe(0);
        expect(readTree(path.join(dir, "out"))).toEqual({ a: "local-a" });
        expect(bash(dir, "merge_config missing1 missing2 empty").status).toBe(0);
        expect(readTree(path.join(dir, "empty"))).toEqual({});
    });
});

describe("embed_config and embed_subconfig", () => {
    it("merge configs/APP (and APP/SUB) into provision-configs/.kaptain, announcing it", () => {
        const dir = tempDir();
        writeTree(dir, {
            "configs/app/x.conf": "common",
            "configs/app/sub/y.conf": "common-y",
            "namespaces/dev/configs/app/x.conf": "dev",
        });
        const r = bash(dir, "embed_config app\nembed_subconfig app sub");
        expect(r.status).toBe(0);
        expect(r.stdout).toContain("kaptain: embedding app config ...");
        expect(readTree(path.join(dir, "namespaces/dev/provision-configs/.kaptain"))).toEqual({
            "app/x.conf": "dev",
            "app/sub/y.conf": "common-y",
            "app.sub/y.conf": "common-y",
        });
    });
});

describe("rclone_config", () => {
    it("uses the given rclone config file and copies to kaptain:<namespace>/APP-config.tar.gz", () => {
        const dir = tempDir();
        const remote = path.join(dir, "remote");
        writeTree(dir, {
            "configs/tiles/a.json": "{}",
            "elsewhere/rclone.conf": `[kaptain]\ntype = alias\nremote = ${remote}\n`,
            "namespaces/dev/.keep": "",
        });
        const r = bash(dir, "rclone_config tiles elsewhere/rclone.conf");
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        expect(fs.existsSync(path.join(remote, "dev", "tiles-config.tar.gz"))).toBe(true);
    });

    it("packs but uploads nothing in a dry run (KAPTAIN_DRY_RUN, set by the diff action)", () => {
        const dir = tempDir();
        const remote = path.join(dir, "remote");
        writeTree(dir, {
            "configs/tiles/a.json": "{}",
            "namespaces/dev/rclone.conf": `[kaptain]\ntype = alias\nremote = ${remote}\n`,
        });
        const r = bash(dir, 'rclone_config tiles && ls "$KAPTAIN_TMP/rclone_config.tiles"', { KAPTAIN_DRY_RUN: "1" });
        expect(r.status).toBe(0);
        expect(r.stdout).toContain("kaptain: dry run: not copying tiles-config.tar.gz to kaptain:dev/");
        expect(r.stdout).toContain("tiles-config.tar.gz");
        expect(fs.existsSync(remote)).toBe(false);
    });

    it("packs the tarball kaptain packs, byte for byte: rclone's modes, no empty folder", () => {
        const dir = tempDir();
        writeTree(dir, {
            "configs/tiles/a.json": "{}",
            "configs/tiles/sub/b.txt": "b\n",
            "configs/tiles/run.sh": "#!/bin/sh\n",
            "namespaces/dev/configs/tiles/a.json": '{"dev": true}',
        });
        fs.chmodSync(path.join(dir, "configs/tiles/run.sh"), 0o755);
        fs.mkdirSync(path.join(dir, "configs/tiles/empty/deeper"), { recursive: true });
        // kaptain's way: `rclone copy` of the two folders into a temporary one, then the tar.
        const kaptainWay = [
            'kaptain=$(mktemp -d "$PWD/.kaptain-way.XXXXXX")',
            'rclone copy --config /dev/null configs/tiles "$kaptain/files" 2>/dev/null',
            'rclone copy --config /dev/null namespaces/dev/configs/tiles "$kaptain/files" 2>/dev/null',
            "tar --sort=name --format=posix --pax-option='exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime' " +
                "--mtime='2017-09-15 00:00:00Z' --owner=0 --group=0 --numeric-owner " +
                '-C "$kaptain/files" -cf - . | gzip -n >"$kaptain/kaptain.tar.gz"',
            'rclone_config tiles && cmp "$kaptain/kaptain.tar.gz" "$KAPTAIN_TMP/rclone_config.tiles/tiles-config.tar.gz"',
            'tar -tvzf "$KAPTAIN_TMP/rclone_config.tiles/tiles-config.tar.gz"',
        ].join("\n");
        const r = bash(dir, kaptainWay, { KAPTAIN_DRY_RUN: "1" });
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        expect(r.stdout).toMatch(/^-rw-r--r-- 0\/0 .* \.\/run\.sh$/m);
        expect(r.stdout).not.toContain("empty");
    });

    it("packs what a symlink points to, where kaptain's rclone skips the file (a deliberate difference)", () => {
        const dir = tempDir();
        writeTree(dir, { "shared/common.conf": "shared\n", "configs/tiles/a.json": "{}", "namespaces/dev/.keep": "" });
        fs.symlinkSync(path.join(dir, "shared/common.conf"), path.join(dir, "configs/tiles/common.conf"));
        const r = bash(
            dir,
            'rclone_config tiles && tar -xOzf "$KAPTAIN_TMP/rclone_config.tiles/tiles-config.tar.gz" ./common.conf',
            { KAPTAIN_DRY_RUN: "1" },
        );
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toContain("shared\n");
    });

    it("fails when rclone cannot copy", () => {
        const dir = tempDir();
        writeTree(dir, { "configs/tiles/a.json": "{}", "namespaces/dev/rclone.conf": "[other]\ntype = local\n" });
        expect(bash(dir, "rclone_config tiles").status).not.toBe(0);
    });
});

describe("split_multi_yml", () => {
    const rendered = [
        "---",
        "# Source: chart/templates/a.yaml",
        "kind: A",
        "---",
        "# Source: chart/templates/sub/b.yaml",
        "kind: B",
        "data:",
        "  text: |",
        "    ---",
        "    not a separator of ours",
        "---",
        "# Source: chart/templates/a.yaml",
        "kind: A2",
        "",
    ].join("\n");

    it("writes one file per source path; documents of one source share it", () => {
        const dir = tempDir();
        writeTree(dir, { "all.yaml": rendered });
        const r = bash(dir, "split_multi_yml all.yaml out");
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        expect(readTree(path.join(dir, "out"))).toEqual({
            "chart/templates/a.yaml": "kind: A\n---\nkind: A2\n",
            "chart/templates/sub/b.yaml": "kind: B\ndata:\n  text: |\n    ---\n    not a separator of ours\n",
        });
    });

    it("refuses a source path that would escape the folder", () => {
        const dir = tempDir();
        writeTree(dir, { "evil.yaml": "---\n# Source: ../../escape.yaml\nkind: X\n" });
        const r = bash(dir, "split_multi_yml evil.yaml out/inner");
        expect(r.status).not.toBe(0);
        expect(r.stderr).toContain("unsafe source path '../../escape.yaml'");
        expect(fs.existsSync(path.join(dir, "escape.yaml"))).toBe(false);
    });
});

describe("every helper checks its arguments", () => {
    it.each([
        ["merge_config a b", "merge_config COMMON LOCAL DEST (got 2 arguments)"],
        ["embed_config", "embed_config APP (got 0 arguments)"],
        ["embed_config ''", "embed_config APP (an argument is empty)"],
        ["embed_subconfig app", "embed_subconfig APP SUB (got 1 argument)"],
        ["rclone_config", "rclone_config APP [RCLONE_CONF] (got 0 arguments)"],
        ["rclone_config a b c", "rclone_config APP [RCLONE_CONF] (got 3 arguments)"],
        ["split_multi_yml f", "split_multi_yml FILE DIR (got 1 argument)"],
    ])("%s", (call, usage) => {
        const dir = tempDir();
        const r = bash(dir, call);
        expect(r.status).toBe(2);
        expect(r.stderr).toContain(`kaptain: usage: ${usage}`);
        // Nothing was embedded on a guess (kaptain's embed_config with no APP embedded every folder).
        expect(fs.existsSync(path.join(dir, "namespaces/dev/provision-configs/.kaptain"))).toBe(false);
    });
});

describe("the kubeconfig rule, in TypeScript and in bash", () => {
    it.each([
        "apiVersion: v1\nkind: Config\n",
        "apiVersion: v1",
        '{"apiVersion":"v1","kind":"Config"}',
        "~/.kube/prod.yaml",
        "kube/config.yaml",
        "/etc/kube/config",
        " apiVersion: v1",
        "a path\nwith a newline",
    ])("%j is content or a path for both", value => {
        const dir = tempDir();
        const r = bash(dir, 'export KAPTAIN_KUBECONFIG="$VALUE"; kaptain_kubeconfig; printf "%s" "$KUBECONFIG"', {
            VALUE: value,
        });
        expect(r.status).toBe(0);
        const writtenAsFile = /^\/proc\/\d+\/fd\/47$/.test(r.stdout);
        expect(writtenAsFile).toBe(isKubeconfigContent(value));
    });
});

describe("kaptain_kubeconfig with content", () => {
    const big = BIG_KUBECONFIG;

    it("reads `-` as: the content is on standard input, whole, however large", () => {
        const dir = tempDir();
        const r = bash(
            dir,
            [
                "export KAPTAIN_KUBECONFIG=-",
                "kaptain_kubeconfig",
                'printf "%s\\n" "$KUBECONFIG" >&2',
                'cat -- "$KUBECONFIG"',
            ].join("\n"),
            {},
            big,
        );
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toBe(big);
        expect(r.stderr.trim()).toMatch(/^\/proc\/\d+\/fd\/47$/);
    });

    it("is in a private file that no path leads to, which every process of the run can read", () => {
        const dir = tempDir();
        const r = bash(
            dir,
            [
                "export KAPTAIN_KUBECONFIG=-",
                "kaptain_kubeconfig",
                // What a hook's subshell, a child process and a child's child read.
                '(cat -- "$KUBECONFIG") >"$PWD/subshell"',
                // `; :` keeps bash from exec-ing cat: cat is the grandchild.
                'bash -c \'cat -- "$KUBECONFIG"; :\' >"$PWD/grandchild"',
                'stat -L -c %a -- "$KUBECONFIG"',
                'readlink -- "$KUBECONFIG"',
                'ls -A -- "$KAPTAIN_TMP"',
            ].join("\n"),
            {},
            KUBECONFIG,
        );
        expect(r.status, r.stderr).toBe(0);
        expect(fs.readFileSync(path.join(dir, "subshell"), "utf8")).toBe(KUBECONFIG);
        expect(fs.readFileSync(path.join(dir, "grandchild"), "utf8")).toBe(KUBECONFIG);
        const [mode, link, ...listing] = r.stdout.trimEnd().split("\n");
        expect(mode).toBe("600");
        // Unlinked before the content was written: nothing on disk names it.
        expect(link).toMatch(/\/kubeconfig \(deleted\)$/);
        expect(listing).toEqual([]);
    });
});

describe("kaptain_kubeconfig without a kubeconfig argument", () => {
    it("falls back to ~/.kube/config, as kubectl and the Kubernetes provider do", () => {
        const dir = tempDir();
        writeTree(dir, { "home/.kube/config": "apiVersion: v1\n" });
        const r = bash(dir, 'unset KUBECONFIG KAPTAIN_KUBECONFIG; kaptain_kubeconfig; printf "%s" "$KUBECONFIG"', {
            HOME: path.join(dir, "home"),
        });
        expect(r.stdout).toBe(path.join(dir, "home/.kube/config"));
    });

    it("makes a relative path absolute, so a hook that changes directory still finds it", () => {
        const dir = tempDir();
        const r = bash(dir, 'KAPTAIN_KUBECONFIG=../../kube.yaml; kaptain_kubeconfig; printf "%s" "$KUBECONFIG"');
        expect(r.stdout).toBe(`${fs.realpathSync(dir)}/namespaces/dev/../../kube.yaml`);
    });

    it("names every way to give one when there is none", () => {
        const dir = tempDir();
        const r = bash(dir, "unset KUBECONFIG KAPTAIN_KUBECONFIG; kaptain_kubeconfig; kaptain_preflight", {
            HOME: path.join(dir, "nohome"),
        });
        expect(r.status).toBe(1);
        expect(r.stderr).toContain(
            "no kubeconfig: pass `kubeconfig` to the Infrastructure, export KUBECONFIG, or create ~/.kube/config",
        );
    });
});

describe("kaptain_lock", () => {
    /** A PATH with what the lock needs but no flock command, as on macOS: perl locks instead. */
    function pathWithoutFlock(dir: string): string {
        const bin = path.join(dir, "bin");
        fs.mkdirSync(bin);
        for (const tool of ["bash", "perl", "uname", "date", "rm", "mktemp", "sleep", "cat"]) {
            const found = spawnSync("bash", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
            fs.symlinkSync(found, path.join(bin, tool));
        }
        return bin;
    }

    it.each(["flock", "perl"])("with %s: a second taker gives up after the bounded wait, naming the holder", locker => {
        const dir = tempDir();
        const r = bash(
            dir,
            [
                "command -v flock >/dev/null || echo 'no flock command'",
                "kaptain_lock",
                '( PULUMI_KAPTAIN_LOCK_TIMEOUT=1; kaptain_lock ) && echo "second: took it" || echo "second: refused"',
            ].join("\n"),
            locker === "perl" ? { PATH: pathWithoutFlock(dir) } : {},
        );
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout.includes("no flock command")).toBe(locker === "perl");
        expect(r.stdout).toContain("second: refused");
        expect(r.stderr).toContain(
            `kaptain: test: error: the repository's lock (${fs.realpathSync(dir)}) is still held after 1 s, ` +
                "by test of namespace dev (process ",
        );
    });

    it.each(["flock", "perl"])("with %s: is released when its holder ends, whatever it left behind", locker => {
        const dir = tempDir();
        const r = bash(
            dir,
            '( kaptain_lock ) && PULUMI_KAPTAIN_LOCK_TIMEOUT=0 && kaptain_lock && echo "second: took it"',
            locker === "perl" ? { PATH: pathWithoutFlock(dir) } : {},
        );
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toContain("second: took it");
        expect(r.stderr).toMatch(
            /taking the lock, last held by test of namespace dev \(process \d+ on .*\), which ended without cleaning up/,
        );
    });
});

describe("the lock wait rule, in TypeScript and in bash", () => {
    it.each(["", "0", "1800", "30m", " 5", "-1", "1e3"])("%j is taken by both or by neither", value => {
        const dir = tempDir();
        const r = bash(dir, 'PULUMI_KAPTAIN_LOCK_TIMEOUT=$VALUE; kaptain_lock && echo "took it"', { VALUE: value });
        expect(r.stdout.includes("took it")).toBe(isLockTimeout(value));
    });
});

describe("kaptain_group_members", () => {
    it("names the live processes of a process group, whatever their names hold", () => {
        const dir = tempDir();
        fs.symlinkSync(
            spawnSync("bash", ["-c", "command -v sleep"], { encoding: "utf8" }).stdout.trim(),
            path.join(dir, "s) (p"),
        );
        const r = bash(
            dir,
            'set -m; "./s) (p" 30 & pid=$!; set +m; echo "$pid"; kaptain_group_members "$pid"; kill "$pid"',
        );
        const [pid, members] = r.stdout.split("\n");
        expect(members).toBe(`${pid} (s) (p)`);
    });
});

describe("the record and what an update runs", () => {
    const digest = (c: string) => c.repeat(64);
    const inputs = {
        KAPTAIN_SHARED: digest("a"),
        KAPTAIN_RELEASE_web: `${digest("b")} web`,
        KAPTAIN_RELEASE_fleet_3: `${digest("c")} fleet-3 fleet.3`,
    };
    const recorded = [
        "kaptain-manifest 1",
        `KAPTAIN_SHARED=${digest("a")}`,
        `KAPTAIN_RELEASE_fleet_3=${digest("c")} fleet-3 fleet.3`,
        `KAPTAIN_RELEASE_web=${digest("b")} web`,
        "",
    ].join("\n");

    it("kaptain_record: a first line, then the shared digest, the live diff and the releases, sorted", () => {
        const dir = tempDir();
        const r = bash(dir, 'kaptain_record; printf "%s" "$KAPTAIN_RECORD"', {
            ...inputs,
            KAPTAIN_INPUT_configs_web: digest("e"),
        });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toBe(recorded);
        const live = bash(dir, 'kaptain_record; printf "%s" "$KAPTAIN_RECORD"', {
            ...inputs,
            KAPTAIN_LIVE_DIFF: "none",
        });
        expect(live.stdout).toBe(
            recorded.replace("\nKAPTAIN_RELEASE_fleet_3", "\nKAPTAIN_LIVE_DIFF=none\nKAPTAIN_RELEASE_fleet_3"),
        );
    });

    /** What kaptain_changed_releases decides for the environment `now`, given the previous record. */
    function decide(previous: string, now: Record<string, string>): string {
        const r = bash(
            tempDir(),
            'if kaptain_changed_releases "$PREVIOUS"; then echo "run: $KAPTAIN_CHANGED"; else echo "whole: $KAPTAIN_WHOLE_PHASE"; fi',
            { PREVIOUS: previous, ...now },
        );
        expect(r.stderr).toBe("");
        return r.stdout.trimEnd();
    }

    it.each([
        [
            "the record as the provider keeps it (no last newline)",
            recorded.trimEnd(),
            { KAPTAIN_RELEASE_web: `${digest("d")} web` },
            "run: web",
        ],
        ["the record with its last newline", recorded, { KAPTAIN_RELEASE_web: `${digest("d")} web` }, "run: web"],
        [
            "a release added to a variable (the names count)",
            recorded,
            { KAPTAIN_RELEASE_web: `${digest("b")} web web-2` },
            "run: web web-2",
        ],
        [
            "only the header",
            "kaptain-manifest 1",
            {},
            "whole: an input that all its releases share changed (KAPTAIN_SHARED)",
        ],
        [
            "another version of the record",
            recorded.replace("manifest 1", "manifest 2"),
            {},
            "whole: no record of a previous run to compare with (a create, or a state from before pulumi-kaptain kept one)",
        ],
        [
            "a line that is not NAME=value",
            `${recorded}garbage\n`,
            {},
            "whole: line 5 of the previous run's record is not one this script reads",
        ],
        [
            "a variable that is not the record's",
            `${recorded}PATH=/tmp\n`,
            {},
            "whole: line 5 of the previous run's record is not one this script reads",
        ],
        [
            "a name no variable can have",
            `${recorded}KAPTAIN_RELEASE_a-b=${digest("f")} a-b\n`,
            {},
            "whole: line 5 of the previous run's record is not one this script reads",
        ],
        [
            "a variable that names no release",
            recorded,
            { KAPTAIN_RELEASE_api: digest("f") },
            "whole: KAPTAIN_RELEASE_api names a release that is not a plain label value (letters, digits, '.', '_', '-'): ''",
        ],
        [
            "a release name that is a glob",
            recorded,
            { KAPTAIN_RELEASE_api: `${digest("f")} *` },
            "whole: KAPTAIN_RELEASE_api names a release that is not a plain label value (letters, digits, '.', '_', '-'): '*'",
        ],
        [
            "the live diff's finding gone",
            recorded.replace("\nKAPTAIN_RELEASE_fleet", "\nKAPTAIN_LIVE_DIFF=none\nKAPTAIN_RELEASE_fleet"),
            { KAPTAIN_RELEASE_web: `${digest("d")} web` },
            "whole: KAPTAIN_LIVE_DIFF is gone (liveDiff turned off?)",
        ],
    ])("%s", (_, previous, change, decision) => {
        expect(decide(previous, { ...inputs, ...change })).toBe(decision);
    });

    it("kaptain_select_releases narrows each of the phase's selectors to each release, or keeps them", () => {
        const dir = tempDir();
        const body = 'kaptain_select_releases action=install tier=web; printf "%s\\n" "${KAPTAIN_SELECTORS[@]}"';
        const narrowed = bash(dir, body, {
            ...inputs,
            KAPTAIN_RELEASE_web: `${digest("d")} web`,
            PULUMI_COMMAND_STDOUT: recorded,
        });
        expect(narrowed.stdout.split("\n")).toEqual([
            ...["--selector", "action=install,name=web", "--selector", "tier=web,name=web"],
            "",
        ]);
        expect(narrowed.stderr).toBe(
            "kaptain: test: releases whose inputs changed: web (helmfile runs for them only)\n",
        );
        const whole = bash(dir, body, { ...inputs, PULUMI_COMMAND_STDOUT: recorded });
        expect(whole.stdout.split("\n")).toEqual(["--selector", "action=install", "--selector", "tier=web", ""]);
        expect(whole.stderr).toBe(
            "kaptain: test: helmfile runs for the whole phase: none of the inputs in its record changed since the last run (another input did)\n",
        );
    });
});

describe("kaptain_relay", () => {
    it("lets 64 KiB through, then keeps the last 32 KiB of lines, saying how much it left out", () => {
        const dir = tempDir();
        // 3,000 lines of 101 bytes.
        const lines = Array.from(
            { length: 3000 },
            (_, i) => `line ${String(i + 1).padStart(5, "0")} ${"0".repeat(89)}`,
        );
        fs.writeFileSync(path.join(dir, "in"), `${lines.join("\n")}\n`);
        const r = bash(dir, "kaptain_relay <in");
        expect(r.status, r.stderr).toBe(0);
        // 648 lines make the first 64 KiB, 324 the last 32 KiB.
        expect(r.stdout).toBe(
            [
                ...lines.slice(0, 648),
                "kaptain: test: output past 64 KiB is held back: its last lines follow when the phase ends",
                "kaptain: test: 204828 bytes (2028 lines) of output left out here: a phase keeps its output under " +
                    "100 KiB, which its next run receives in an environment variable",
                ...lines.slice(3000 - 324),
                "",
            ].join("\n"),
        );
    });

    it("cuts a line longer than 4 KiB, and lets short output through whole", () => {
        const dir = tempDir();
        fs.writeFileSync(path.join(dir, "in"), `first\n${"y".repeat(10_000)}\nlast\n`);
        const r = bash(dir, "kaptain_relay <in");
        expect(r.stdout).toBe(`first\n${"y".repeat(4096)} [5904 more bytes of this line left out]\nlast\n`);
    });
});
