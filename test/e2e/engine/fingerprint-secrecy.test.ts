/**
 * Issue 15, class 5, through the real engine: `pulumi stack export` (secrets encrypted, as
 * anyone with read access to the backend sees it) holds no unkeyed digest of an input
 * file, a credentials file outside the default names included; and `pulumi preview --diff`
 * still names the group of files that changed. No cluster: the phase runs the recording
 * helmfile stand-in, so this needs the command plugin only.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digestsFoundIn, unkeyedDigests } from "../../support/digests";
import { FIXTURE_REPO, STUB_BIN } from "../../support/fixture";
import { toolchain } from "../support/tools";
import { Engine, EngineStack } from "./harness";
import { commandPluginOrSkipLines, pluginBinaries } from "./plugins";

const TITLE = "the state holds no unkeyed digest of an input file, and preview names the group that changed";
const hasCommandPlugin = commandPluginOrSkipLines([TITLE]);

let engine: Engine;
let stack: EngineStack;
let repo: string;

describe.skipIf(!hasCommandPlugin)("fingerprint digests through the engine", () => {
    beforeAll(async () => {
        const tools = toolchain();
        engine = new Engine({
            binDir: tools.binDir,
            helmPlugins: tools.helmPlugins,
            plugins: pluginBinaries(tools.binDir),
        });
        await engine.start();
        repo = path.join(engine.root, "repo");
        fs.cpSync(FIXTURE_REPO, repo, { recursive: true });
        fs.writeFileSync(path.join(repo, "namespaces/dev/secrets.yml"), 'password: "4711"\n');
        const record = path.join(engine.root, "record");
        const kubeconfig = path.join(engine.root, "kubeconfig.yaml");
        fs.mkdirSync(record);
        fs.writeFileSync(kubeconfig, "apiVersion: v1\nkind: Config\n");
        stack = await engine.stack("digests", async () => {
            const { Infrastructure } = await import("../../../sdk");
            new Infrastructure("shop", {
                namespace: "dev",
                workingDirectory: repo,
                hooks: false,
                kubeconfig,
                provisionConfigs: false,
                phases: { config: true, install: false },
                helmfile: { binary: path.join(STUB_BIN, "helmfile"), strategy: "sync" },
                environment: { HELMFILE_RECORD: record },
            });
        });
    }, 40 * 60_000);

    afterAll(() => engine?.remove(), 120_000);

    it(TITLE, async () => {
        await stack.up();
        const state = await stack.exportedState();
        expect(state).toContain("KAPTAIN_INPUT_namespaces_dev_secrets_yml");
        const digests = unkeyedDigests({ workingDirectory: repo, namespace: "dev" });
        expect(digests.length).toBeGreaterThan(30);
        expect(digestsFoundIn(state, digests)).toEqual([]);

        fs.appendFileSync(path.join(repo, "configs/app/a.conf"), "edited\n");
        const preview = await stack.preview({ diff: true });
        expect(preview.diffs["shop-config"]).toEqual([
            "environment.KAPTAIN_INPUT_configs_app",
            "environment.KAPTAIN_SHARED",
        ]);
        expect(preview.output).toMatch(/~ KAPTAIN_INPUT_configs_app: \[secret\] => \[secret\]/);
    });
});
