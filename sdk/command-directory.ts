import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { relativeFrom } from "./layout";

/** What the invoke runs: the provider's own working directory, symlinks resolved. */
export const WORKING_DIRECTORY_COMMAND = "pwd -P";

/**
 * The `dir` of a phase Command: the working directory (the Helmfile repository), relative
 * to the directory the command provider runs in. (The scripts move on to the namespace
 * folder themselves, so that a delete whose folder is gone still runs and says so.)
 *
 * The provider resolves a relative `dir` against its own working directory, which is the
 * Pulumi project's directory: the program's directory under `pulumi up`, but not for an
 * Automation API inline program (the workspace's `workDir`, a temporary folder by
 * default). So the provider is asked where it runs, with an invoke that runs `pwd -P`
 * there (invokes run during `preview` too), and the path is made relative to that. An
 * absolute path would work as well, but would put the checkout's location into the
 * phases' inputs: moving the checkout (another CI runner, another clone) would then
 * change every phase. Relative, it changes nothing as long as the project and the
 * repository move together.
 *
 * The invoke takes the parent's command provider, as the phases do.
 */
export function commandDirectory(directory: string, parent: pulumi.Resource): pulumi.Output<string> {
    return command.local
        .runOutput({ command: WORKING_DIRECTORY_COMMAND, logging: "none" }, { parent })
        .apply(result => {
            // Pulumi's usual test mocks answer an invoke with its inputs: no stdout. A program
            // under them runs where `pulumi up` would run it, so its directory stands in.
            if (result.stdout === undefined) {
                return relativeFrom(process.cwd(), directory);
            }
            const providerDirectory = result.stdout.trim();
            if (!providerDirectory.startsWith("/")) {
                throw new pulumi.ResourceError(
                    `the command provider did not report its working directory (\`${WORKING_DIRECTORY_COMMAND}\` ` +
                        `printed ${JSON.stringify(result.stdout ?? "")})`,
                    parent,
                );
            }
            return relativeFrom(providerDirectory, directory);
        });
}
