import io.shortfuse.jenkins.Options

class OptionsTest {
    static final String ROLE = 'arn:aws:iam::111122223333:role/deploy'

    void testTokenCommand() {
        assert Options.parse([:]).tokenCommand() == 'shortfuse token --duration 15m'
        assert Options.parse([role: ROLE, duration: '30m', maxUses: 20, region: 'eu-west-1', endpointUrl: 'https://broker:7575', mfa: true]).tokenCommand() ==
            "shortfuse token --role ${ROLE} --duration 30m --max-uses 20 --mfa-serial YOUR_MFA_DEVICE_ARN --region eu-west-1 --endpoint-url https://broker:7575"
    }

    void testExecCommandArguments() {
        def o = Options.parse([secrets: [DB: '/prod/db#password', API: '/prod/api'], endpointUrl: 'http://b:1'])
        String script = "echo \"it's \$DB\"\nmake 'deploy'"
        assert Assert.argv(o.execCommand(script)) == [
            'exec', '--keep-session', '--grace', '120s',
            '--secret', 'API=/prod/api', '--secret', 'DB=/prod/db#password',
            '--endpoint-url', 'http://b:1',
            '--', '/bin/sh', '-xe', '-c', script,
        ]
        assert Assert.argv(Options.parse([grace: '0', shell: '/bin/bash -eu']).execCommand('true')) ==
            ['exec', '--keep-session', '--grace', '0', '--', '/bin/bash', '-eu', '-c', 'true']
        assert Assert.argv(Options.parse([region: 'us-west-2']).revokeCommand()) == ['revoke', '--self', '--region', 'us-west-2']
    }

    void testRefusals() {
        Map<Map, String> cases = [
            [secrets: 'DB=/prod/db']                : 'must be a map',
            [secrets: ['1DB': '/x']]                : 'not a variable name',
            [secrets: [AWS_SECRET_ACCESS_KEY: '/x']]: 'set by shortfuse',
            [secrets: [DB: '/prod db']]             : 'not a secret name',
            [role: 'deploy']                        : 'not a role ARN',
            [maxUses: 3]                            : 'maxUses needs role',
            [role: ROLE, maxUses: 0]                : 'at least 1',
            [duration: 'soon']                      : 'not a duration',
            [grace: 'forever']                      : 'not a duration',
            [endpointUrl: 'broker:7575']            : 'not an http(s) URL',
            [approver: ' ']                         : 'must not be empty',
            [approvalTimeoutMinutes: 0]             : 'at least 1',
            [secretz: [:]]                          : 'unknown option',
            [approval: true]                        : 'approval needs role',
            [approval: true, role: ROLE, mfa: true] : 'mfa does not apply with approval',
            [approval: true, role: ROLE, maxUses: 2]: 'maxUses does not apply with approval',
            [reason: 'x']                           : 'reason needs approval',
            [approval: true, role: ROLE, reason: 'a\nb']: 'one line',
        ]
        cases.each { cfg, want ->
            String msg = Assert.throwsIAE { Options.parse(cfg) }
            assert msg.contains(want)
        }
        assert Assert.throwsIAE { Options.parse([secrets: [A: '/x']], Options.TOKEN_ONLY) }.contains('unknown option')
    }

    void testRequestCommand() {
        assert Assert.argv(Options.parse([approval: true, role: ROLE, duration: '10m', reason: "it's release day", endpointUrl: 'https://b:1']).requestCommand()) ==
            ['request', '--role', ROLE, '--duration', '10m', '--format', 'jenkins', '--reason', "it's release day", '--endpoint-url', 'https://b:1']
        assert Options.paramsJson([B: 2, A: 'x', C: null]) == '{"A":"x","B":"2","C":""}'
        assert Options.paramsJson(null) == '{}'
    }
}
