// A user's own unit tests run their program under Pulumi's usual mocks, which answer every
// invoke with its inputs: the component must work there too.
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { copyFixture, tempDir } from "../support/fixture";
import { outputValue } from "../support/program";

describe("under Pulumi's usual mocks", () => {
    it("builds the phases, each running from the repository relative to the program", async () => {
        await pulumi.runtime.setMocks(
            {
                newResource: args => ({ id: `${args.name}-id`, state: args.inputs }),
                call: args => args.inputs,
            },
            "user-project",
            "dev",
            false,
        );
        const repo = copyFixture(path.join(tempDir(), "repo"));
        const { Infrastructure } = await import("../../sdk");
        const infra = new Infrastructure("geo", {
            namespace: "dev",
            workingDirectory: repo,
            kubeconfig: "apiVersion: v1\nkind: Config\n",
        });
        const dir = await outputValue(infra.phases.install!.command.dir);
        expect(dir.value).toBe(path.relative(process.cwd(), repo));
    });
});
