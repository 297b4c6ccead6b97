package io.shortfuse.jenkins

import com.cloudbees.groovy.cps.NonCPS

/**
 * The jenkins token format: SessionToken:AccessKeyId:SecretAccessKey, the one
 * line that `shortfuse token` prints and a password parameter takes.
 *
 * Nothing here ever puts the token, or a part of it, into a message.
 */
class Token implements Serializable {
    private static final long serialVersionUID = 1L

    /** plain returns the text of an input answer (a String or a hudson.util.Secret). */
    @NonCPS
    static String plain(Object answer) {
        if (answer == null) {
            return ''
        }
        if (answer.metaClass.respondsTo(answer, 'getPlainText')) {
            return answer.getPlainText() as String
        }
        return answer.toString()
    }

    /**
     * ask waits, at most opts.approvalTimeoutMinutes, for an approver
     * (opts.approver, when set) to answer an input step whose one password
     * parameter is name, described by description, and returns the text
     * answered. script is the pipeline script whose steps it runs.
     */
    static String ask(Object script, Options opts, String message, String ok, String name, String description) {
        def answer
        script.timeout(time: opts.approvalTimeoutMinutes, unit: 'MINUTES') {
            Map args = [
                message   : message,
                ok        : ok,
                parameters: [script.password(name: name, description: description)],
            ]
            if (opts.approver) {
                args.submitter = opts.approver
            }
            answer = script.input(args)
        }
        return plain(answer)
    }

    /**
     * problem returns why s is not a token in the jenkins format, or null when
     * it is one. The reason never quotes s.
     */
    @NonCPS
    static String problem(String s) {
        String t = (s ?: '').trim()
        if (t.isEmpty()) {
            return 'the token is empty'
        }
        if (t =~ /\s/) {
            return 'the token contains white space'
        }
        String[] parts = t.split(':', -1)
        if (parts.length != 3) {
            return "the token has ${parts.length} parts separated by ':', want 3 (SessionToken:AccessKeyId:SecretAccessKey)"
        }
        if (parts.any { it.isEmpty() }) {
            return 'a part of the token is empty'
        }
        if (!(parts[1] ==~ /[A-Z0-9]{16,128}/)) {
            return 'the second part of the token is not an access key id'
        }
        return null
    }

    /** split returns [sessionToken, accessKeyId, secretAccessKey]; s must be valid. */
    @NonCPS
    static List<String> split(String s) {
        String p = problem(s)
        if (p != null) {
            throw new IllegalArgumentException(p)
        }
        return s.trim().split(':', -1) as List<String>
    }
}
