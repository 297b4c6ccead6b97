import io.shortfuse.jenkins.Options
import io.shortfuse.jenkins.Steps
import io.shortfuse.jenkins.Token

/**
 * withShortfuse(secrets: [VAR: '/prod/name'], role: 'arn:...', approver: 'ops') { sh '...' }
 *
 * Asks an approver for an exploding token (an input step with a password
 * parameter, showing the exact `shortfuse token` command to run), then runs
 * each sh step of the block through `shortfuse exec`: the secrets are in the
 * step's environment and masked in its output, the token is never in the
 * log. The session is revoked when the block ends, however it ends.
 */
def call(Map cfg = [:], Closure body) {
    Options opts
    try {
        opts = Options.parse(cfg)
    } catch (IllegalArgumentException e) {
        error("withShortfuse: ${e.message}")
    }
    String tokenCommand = opts.tokenCommand()
    String prompt = libraryResource('io/shortfuse/jenkins/token-prompt.txt')
        .replace('@TOKEN_COMMAND@', tokenCommand)
        .replace('@DURATION@', opts.duration)

    def answer
    timeout(time: opts.approvalTimeoutMinutes, unit: 'MINUTES') {
        Map args = [
            message   : opts.message ?: 'Approve with an exploding token',
            ok        : 'Run with this token',
            parameters: [password(name: 'SHORTFUSE_TOKEN', description: prompt)],
        ]
        if (opts.approver) {
            args.submitter = opts.approver
        }
        answer = input(args)
    }
    String token = Token.plain(answer)
    String problem = Token.problem(token)
    if (problem != null) {
        error("withShortfuse: ${problem}; the approver should paste the output of: ${tokenCommand}")
    }

    withEnv(["SHORTFUSE_TOKEN=${token}"]) {
        try {
            body.resolveStrategy = Closure.DELEGATE_FIRST
            body.delegate = new Steps(this, opts)
            body()
        } finally {
            // Each step kept the session for the next one; the block is done.
            int rc = sh(script: opts.revokeCommand(), returnStatus: true, label: 'shortfuse revoke --self')
            if (rc != 0) {
                echo("withShortfuse: the session could not be revoked (exit ${rc}); it dies when it expires")
            }
        }
    }
}
