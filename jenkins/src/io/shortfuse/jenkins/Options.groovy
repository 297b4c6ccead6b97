package io.shortfuse.jenkins

import com.cloudbees.groovy.cps.NonCPS

/**
 * The options of withShortfuse, checked once, and the two commands they make:
 * the `shortfuse token` command the approver runs, and the `shortfuse exec`
 * command each sh step of the block runs through.
 */
class Options implements Serializable {
    private static final long serialVersionUID = 1L

    static final Set<String> KNOWN = [
        'secrets', 'role', 'duration', 'maxUses', 'approver', 'message', 'binary',
        'region', 'endpointUrl', 'grace', 'shell', 'approvalTimeoutMinutes', 'mfa',
        'approval', 'reason',
    ] as Set

    Map<String, String> secrets = [:]
    String role
    String duration = '15m'
    Integer maxUses
    String approver
    String message
    String binary = 'shortfuse'
    String region
    String endpointUrl
    String grace = '120s'
    String shell = '/bin/sh -xe'
    Integer approvalTimeoutMinutes = 30
    boolean mfa = false
    /** approval: ask the broker for an approval bound to this build (shortfuse request) instead of an input step. */
    boolean approval = false
    String reason

    /** The options getTempCreds takes: those about the token. */
    static final Set<String> TOKEN_ONLY = [
        'role', 'duration', 'maxUses', 'approver', 'message', 'binary',
        'region', 'endpointUrl', 'approvalTimeoutMinutes', 'mfa',
    ] as Set

    /** parse checks cfg and returns the options; it throws IllegalArgumentException naming the problem. */
    @NonCPS
    static Options parse(Map cfg) {
        return parse(cfg, KNOWN)
    }

    /** parse checks cfg, which may only use the options in allowed. */
    @NonCPS
    static Options parse(Map cfg, Set<String> allowed) {
        Options o = new Options()
        Map c = cfg ?: [:]
        def unknown = c.keySet().findAll { !allowed.contains(it as String) }
        if (unknown) {
            throw new IllegalArgumentException("unknown option(s) ${unknown.sort()}; known: ${allowed.sort()}")
        }
        if (c.secrets != null) {
            if (!(c.secrets instanceof Map)) {
                throw new IllegalArgumentException("secrets must be a map of VARIABLE: 'SECRET_ID[#JSON_KEY]'")
            }
            c.secrets.each { k, v ->
                String name = k as String
                String id = v as String
                if (!(name ==~ /[A-Za-z_][A-Za-z0-9_]*/)) {
                    throw new IllegalArgumentException("secrets: '${name}' is not a variable name")
                }
                if (name.toUpperCase().startsWith('AWS_') || name.toUpperCase().startsWith('SHORTFUSE_')) {
                    throw new IllegalArgumentException("secrets: ${name}: AWS_* and SHORTFUSE_* variables are set by shortfuse itself")
                }
                if (!(id ==~ /[A-Za-z0-9\/_+=.@:-]+(#[^\s]+)?/)) {
                    throw new IllegalArgumentException("secrets: ${name}: '${id}' is not a secret name or ARN (with an optional #JSON_KEY)")
                }
                o.secrets[name] = id
            }
        }
        if (c.role != null) {
            o.role = c.role as String
            if (!(o.role ==~ /arn:[\w-]+:iam::\d{12}:role\/[\w+=,.@\/-]+/)) {
                throw new IllegalArgumentException("role: '${o.role}' is not a role ARN (arn:aws:iam::ACCOUNT:role/NAME)")
            }
        }
        if (c.duration != null) {
            o.duration = c.duration as String
            if (!(o.duration ==~ /\d+(h|m|s)(\d+(m|s))?(\d+s)?/)) {
                throw new IllegalArgumentException("duration: '${o.duration}' is not a duration such as 15m or 1h")
            }
        }
        if (c.maxUses != null) {
            o.maxUses = c.maxUses as Integer
            if (o.maxUses < 1) {
                throw new IllegalArgumentException('maxUses must be at least 1')
            }
            if (o.role == null) {
                throw new IllegalArgumentException('maxUses needs role: only AssumeRole sessions carry the use limit')
            }
        }
        if (c.grace != null) {
            o.grace = c.grace as String
            if (!(o.grace ==~ /0|\d+(h|m|s)(\d+(m|s))?/)) {
                throw new IllegalArgumentException("grace: '${o.grace}' is not a duration such as 120s (or 0 for no dead-man switch)")
            }
        }
        if (c.approvalTimeoutMinutes != null) {
            o.approvalTimeoutMinutes = c.approvalTimeoutMinutes as Integer
            if (o.approvalTimeoutMinutes < 1) {
                throw new IllegalArgumentException('approvalTimeoutMinutes must be at least 1')
            }
        }
        ['approver', 'message', 'binary', 'region', 'endpointUrl', 'shell'].each { k ->
            if (c[k] != null) {
                String v = c[k] as String
                if (v.trim().isEmpty()) {
                    throw new IllegalArgumentException("${k} must not be empty")
                }
                o."${k}" = v
            }
        }
        if (c.mfa != null) {
            o.mfa = c.mfa as boolean
        }
        if (c.approval != null) {
            o.approval = c.approval as boolean
        }
        if (c.reason != null) {
            o.reason = c.reason as String
            if (o.reason.trim().isEmpty() || o.reason.length() > 512 || o.reason =~ /[\x00-\x1f\x7f]/) {
                throw new IllegalArgumentException('reason must be one line of at most 512 characters')
            }
            if (!o.approval) {
                throw new IllegalArgumentException('reason needs approval: true (it is shown to the approvers of the request)')
            }
        }
        if (o.approval) {
            if (o.role == null) {
                throw new IllegalArgumentException('approval needs role: the request asks for a session of that role')
            }
            if (o.maxUses != null) {
                throw new IllegalArgumentException('maxUses does not apply with approval: the approver decides the session')
            }
            ['approver': "the role's tags say who approves (shortfuse:approvers)", 'mfa': 'approvers always use MFA', 'message': 'pass reason: for the approvers']
                .each { k, why ->
                    if (c[k] != null) {
                        throw new IllegalArgumentException("${k} does not apply with approval: ${why}")
                    }
                }
        }
        if (o.endpointUrl != null && !(o.endpointUrl ==~ /https?:\/\/[^\s'"]+/)) {
            throw new IllegalArgumentException("endpointUrl: '${o.endpointUrl}' is not an http(s) URL")
        }
        return o
    }

    @NonCPS
    private List<String> awsFlags() {
        List<String> f = []
        if (region) {
            f += ['--region', region]
        }
        if (endpointUrl) {
            f += ['--endpoint-url', endpointUrl]
        }
        return f
    }

    /** tokenCommand is what the approver runs to get the token (shown in the prompt). */
    @NonCPS
    String tokenCommand() {
        List<String> w = [binary, 'token']
        if (role) {
            w += ['--role', role]
        }
        w += ['--duration', duration]
        if (maxUses != null) {
            w += ['--max-uses', maxUses as String]
        }
        if (mfa) {
            w += ['--mfa-serial', 'YOUR_MFA_DEVICE_ARN']
        }
        w += awsFlags()
        return w.collect { it ==~ /[A-Za-z0-9_\/:.,=@+-]+/ ? it : Shell.quote(it) }.join(' ')
    }

    /**
     * execCommand wraps a script: shortfuse exec with the secrets, keeping the
     * session for the next step of the block (revoked when the block ends),
     * and running the script with the shell.
     */
    @NonCPS
    String execCommand(String script) {
        List<String> w = [binary, 'exec', '--keep-session', '--grace', grace]
        secrets.keySet().sort().each { name ->
            w += ['--secret', "${name}=${secrets[name]}" as String]
        }
        w += awsFlags()
        w += ['--']
        w += shell.trim().split(/\s+/) as List<String>
        w += ['-c', script]
        return Shell.join(w)
    }

    /**
     * requestCommand asks the broker for a session of the role bound to this
     * build, prints the approval code and link on stderr (the build log) and
     * the token on stdout once approved.
     */
    @NonCPS
    String requestCommand() {
        List<String> w = [binary, 'request', '--role', role, '--duration', duration, '--format', 'jenkins']
        if (reason) {
            w += ['--reason', reason]
        }
        w += awsFlags()
        return Shell.join(w)
    }

    /**
     * paramsJson is the build's parameters as a JSON object of strings, which
     * shortfuse request hashes into the request (SHORTFUSE_BUILD_PARAMS).
     * Values that are not plain text (a password parameter's Secret) are
     * represented by their type only: a secret never leaves for the hash.
     */
    @NonCPS
    static String paramsJson(Map params) {
        Map<String, String> m = new TreeMap<String, String>()
        (params ?: [:]).each { k, v ->
            if (v == null || v instanceof CharSequence || v instanceof Number || v instanceof Boolean) {
                m[k as String] = v == null ? '' : v.toString()
            } else {
                m[k as String] = '<' + v.getClass().getSimpleName() + '>'
            }
        }
        return groovy.json.JsonOutput.toJson(m)
    }

    /** revokeCommand ends the session at the end of the block. */
    @NonCPS
    String revokeCommand() {
        return Shell.join([binary, 'revoke', '--self'] + awsFlags())
    }
}
