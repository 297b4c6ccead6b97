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
    String token = Token.ask(this, opts, opts.message ?: 'Temporary AWS credentials', 'Use these credentials',
        'TEMP_CREDS', "Paste the output of: ${tokenCommand}")
    String problem = Token.problem(token)
    if (problem != null) {
        error("failed to get temporary credentials: ${problem}")
    }
    return Token.split(token)
}
