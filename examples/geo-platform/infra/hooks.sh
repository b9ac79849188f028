# kaptain hooks: sourced with the hook's name as $1, in the shell that runs helmfile.
HOOK=$1

if [ "$HOOK" = "make-config" ]; then
    # Used by helmfile templates through `env`.
    REPO_REVISION=$(git -C "$KAPTAIN_WORKING_DIRECTORY" describe --tags --always --dirty=+ 2>/dev/null || echo unknown)
    export REPO_REVISION

    # configs/redis-commander (+ the namespace's overrides) into the provision-configs chart
    embed_config redis-commander
    # configs/redis packed and copied to the kaptain: rclone remote
    rclone_config redis
fi
