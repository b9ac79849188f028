// Issue 15, class 5: no digest that synth writes lets a reader test guesses of what an
// input file holds, whatever the file is called; synth still names what changed.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { fingerprintRepository } from "../../sdk/fingerprint";
import { digestsFoundIn, hexWindows, sha256, unkeyedDigests } from "../support/digests";
import { tempDir } from "../support/fixture";
import { exampleProject, kaptain, listFiles } from "../support/synth-project";

const REPO = "examples/geo-platform/infra";
/** A secrets file outside the default list (secret.yaml, secrets.yaml, rclone.conf). */
const SECRETS = "namespaces/dev/secrets.yml";
const PIN = "4711";
const secretsText = (pin: string) => `password: "${pin}"\n`;

describe("kaptain synth writes no unkeyed digest of an input file", () => {
    const project = exampleProject(dir => fs.writeFileSync(path.join(dir, REPO, SECRETS), secretsText(PIN)));
    const env = { XDG_CACHE_HOME: tempDir() };
    const run = kaptain(["synth", "--project", project, "--stack", "dev"], project, env);
    const out = path.join(project, "out", "dev");
    const written = () =>
        [run.stdout, run.stderr, ...listFiles(out).map(f => fs.readFileSync(path.join(out, f), "utf8"))].join("\n");
    const options = { workingDirectory: path.join(project, REPO), namespace: "dev" };

    it("a short password in a secrets file of any name cannot be found by trying every guess", () => {
        expect(run.status).toBe(0);
        // What the attacker computes for each guess: the fingerprint of the file holding it,
        // exactly as the fingerprint does (checked against it for the real one).
        const guess = (pin: string) => sha256(`${SECRETS}\0${sha256(secretsText(pin))}\n`);
        const group = fingerprintRepository(options).find(g => g.group === SECRETS)!;
        expect(group.digest).toBe(guess(PIN));
        const windows = hexWindows(written());
        const recovered = Array.from({ length: 10_000 }, (_, i) => String(i).padStart(4, "0")).filter(
            pin => digestsFoundIn(windows, [guess(pin)]).length > 0,
        );
        expect(recovered).toEqual([]);
    });

    it("no file's digest, fingerprint line or group digest appears anywhere in its output", () => {
        const digests = unkeyedDigests(options);
        expect(digests.length).toBeGreaterThan(30);
        expect(digestsFoundIn(written(), digests)).toEqual([]);
    });

    it("still names the group that changed, and says it without showing it", () => {
        fs.appendFileSync(path.join(project, REPO, "configs/redis/redis.conf"), "# tuned\n");
        const again = kaptain(["synth", "--project", project, "--stack", "dev"], project, env);
        expect(again.status).toBe(0);
        expect(again.stdout).toContain(
            "~ command:local:Command geo-install: environment.KAPTAIN_INPUT_configs_redis (secret, not shown), " +
                "environment.KAPTAIN_SHARED (secret, not shown)\n",
        );
        expect(digestsFoundIn(written() + again.stdout, unkeyedDigests(options))).toEqual([]);
    });
});

describe("kaptain synth --live tells drift from an edit, though the fingerprint is secret", () => {
    // helm and helmfile stand-ins: helmfile's diff prints a recorded diff of three releases.
    const bin = tempDir("kaptain-bin-");
    fs.copyFileSync(path.resolve(__dirname, "../support/bin/helm"), path.join(bin, "helm"));
    fs.writeFileSync(
        path.join(bin, "helmfile"),
        [
            "#!/usr/bin/env bash",
            'if [ "${2:-}" = --help ]; then printf "Flags:\\n      --hide-notes\\n"; exit 0; fi',
            `cat ${JSON.stringify(path.resolve(__dirname, "../fixtures/helmfile-diff/changed.txt"))}`,
            "",
        ].join("\n"),
        { mode: 0o755 },
    );
    const project = exampleProject();
    const kubeconfig = path.join(tempDir(), "kubeconfig.yaml");
    fs.writeFileSync(kubeconfig, "apiVersion: v1\nkind: Config\n");
    const live = () => {
        const run = kaptain(
            ["synth", "--project", project, "--stack", "dev", "--live", "--kubeconfig", kubeconfig],
            project,
            { XDG_CACHE_HOME: path.join(project, "cache"), PATH: `${bin}:${process.env.PATH}` },
        );
        expect(run.stderr).toBe("");
        return run.stdout;
    };
    const DRIFT = "install: 3 releases would change (drift: the phase's inputs are as at the previous synth)";

    it("the same inputs again: what differs is drift", () => {
        expect(live()).not.toContain("(drift");
        expect(live()).toContain(DRIFT);
    });

    it("a file edited since: not drift", () => {
        fs.appendFileSync(path.join(project, REPO, "configs/redis/redis.conf"), "# tuned\n");
        expect(live()).toContain("  install: 3 releases would change\n");
    });
});
