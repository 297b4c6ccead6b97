import io.shortfuse.jenkins.Options
import io.shortfuse.jenkins.Steps
import io.shortfuse.jenkins.Token

/**
 * withShortfuse(secrets: [VAR: '/prod/name'], role: 'arn:...', approver: 'ops') { sh '...' }
 * withShortfuse(approval: true, role: 'arn:...', secrets: [VAR: '/prod/name']) { sh '...' }
 *
 * Gets an exploding token: with approval: true, from an approval request
 * bound to this build (shortfuse request: the code and link are in the log,
 * an approver approves with shortfuse approve or on the broker's page);
 * otherwise from an approver answering an input step with a password
 * parameter, which shows the exact `shortfuse token` command to run. Then runs
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
    String token = opts.approval ? requestToken(opts) : askToken(opts)

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

/** askToken: an input step with a password parameter, answered by an approver who runs shortfuse token. */
private String askToken(Options opts) {
    String tokenCommand = opts.tokenCommand()
    String prompt = libraryResource('io/shortfuse/jenkins/token-prompt.txt')
        .replace('@TOKEN_COMMAND@', tokenCommand)
        .replace('@DURATION@', opts.duration)

    String token = Token.ask(this, opts, opts.message ?: 'Approve with an exploding token', 'Run with this token',
        'SHORTFUSE_TOKEN', prompt)
    String problem = Token.problem(token)
    if (problem != null) {
        error("withShortfuse: ${problem}; the approver should paste the output of: ${tokenCommand}")
    }
    return token
}

/**
 * requestToken: shortfuse request asks the broker for a session bound to this
 * build (URL, job, commit, parameters) and prints the approval code and link
 * in the log; an approver approves with shortfuse approve CODE or on the
 * broker's page; the session comes back to this step only, once. Nothing is
 * pasted and no input step waits. The step's AWS credentials need only
 * shortfuse:CreateRequest on the role.
 */
private String requestToken(Options opts) {
    Map buildParams = [:]
    try {
        buildParams = params ?: [:]
    } catch (MissingPropertyException ignored) {
        // Not a parameterized build.
    }
    echo("withShortfuse: asking for approval of a session of ${opts.role}; the approval code and link follow")
    String out
    timeout(time: opts.approvalTimeoutMinutes, unit: 'MINUTES') {
        withEnv(["SHORTFUSE_BUILD_PARAMS=${Options.paramsJson(buildParams)}"]) {
            out = sh(script: opts.requestCommand(), returnStdout: true, label: 'shortfuse request: waiting for approval')
        }
    }
    String token = (out ?: '').trim()
    String problem = Token.problem(token)
    if (problem != null) {
        error("withShortfuse: shortfuse request gave no usable token (${problem})")
    }
    return token
}
