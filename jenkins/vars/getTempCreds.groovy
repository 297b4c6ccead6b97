import io.shortfuse.jenkins.Options
import io.shortfuse.jenkins.Token

/**
 * def (sessionToken, accessKeyId, secretAccessKey) = getTempCreds(role: 'arn:...')
 *
 * The shape of the AWS recipe: ask for the token
 * SessionToken:AccessKeyId:SecretAccessKey with a password parameter and
 * return its three parts. Fails loudly ("failed to get temporary credentials")
 * when the answer is not such a token. Prefer withShortfuse, which also masks
 * and revokes.
 */
List<String> call(Map cfg = [:]) {
    Options opts
    try {
        opts = Options.parse(cfg, Options.TOKEN_ONLY)
    } catch (IllegalArgumentException e) {
        error("getTempCreds: ${e.message}")
    }
    String tokenCommand = opts.tokenCommand()
    def answer
    timeout(time: opts.approvalTimeoutMinutes, unit: 'MINUTES') {
        Map args = [
            message   : opts.message ?: 'Temporary AWS credentials',
            ok        : 'Use these credentials',
            parameters: [password(name: 'TEMP_CREDS', description: "Paste the output of: ${tokenCommand}")],
        ]
        if (opts.approver) {
            args.submitter = opts.approver
        }
        answer = input(args)
    }
    String token = Token.plain(answer)
    String problem = Token.problem(token)
    if (problem != null) {
        error("failed to get temporary credentials: ${problem}")
    }
    return Token.split(token)
}
