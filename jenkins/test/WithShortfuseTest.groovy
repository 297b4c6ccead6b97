class WithShortfuseTest {
    static final String TOKEN = 'sfs1.AbC-_xyz:ASIAEXAMPLE7Q4ZKXYZW:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'
    static final String ROLE = 'arn:aws:iam::111122223333:role/deploy'

    Pipeline p = new Pipeline(new File('.'))

    void testPromptsRunsThroughExecAndRevokes() {
        p.inputAnswers << TOKEN
        def result = p.load('withShortfuse').call(secrets: [DB_PASSWORD: '/prod/db#password'], role: ROLE, approver: 'release-managers', maxUses: 10) {
            sh './deploy.sh "$DB_PASSWORD"'
            echo 'between steps'
            dir('sub') {
                sh(script: 'make', returnStatus: true)
            }
            'block result'
        }
        assert result == 'block result'

        Map input = p.callsOf('input')[0].args
        assert input.submitter == 'release-managers'
        String prompt = input.parameters[0].passwordParameter.description
        assert prompt.contains("shortfuse token --role ${ROLE} --duration 15m --max-uses 10")
        assert input.parameters[0].passwordParameter.name == 'SHORTFUSE_TOKEN'
        assert p.callsOf('timeout')[0].args == [time: 30, unit: 'MINUTES']

        List<Map> sh = p.callsOf('sh')
        assert sh.size() == 3
        // Both steps of the block went through shortfuse exec, with the token in
        // the environment only.
        [sh[0], sh[1]].each { c ->
            assert c.args.script.startsWith("'shortfuse' 'exec' '--keep-session' '--grace' '120s' '--secret' 'DB_PASSWORD=/prod/db#password' '--'")
            assert c.env.SHORTFUSE_TOKEN == TOKEN
            assert !c.args.script.contains('wJalrXUtnFEMI')
            assert c.args.label.startsWith('shortfuse exec: ')
        }
        assert Assert.argv(sh[0].args.script).takeRight(4) == ['/bin/sh', '-xe', '-c', './deploy.sh "$DB_PASSWORD"']
        assert sh[1].args.returnStatus == true
        // Then the session is revoked, still with the token.
        assert sh[2].args.script == "'shortfuse' 'revoke' '--self'"
        assert sh[2].env.SHORTFUSE_TOKEN == TOKEN
        assert p.callsOf('echo')[0].args == 'between steps'
        // Nothing logged or failed carries the token.
        p.calls.findAll { it.step in ['echo', 'error'] }.each { assert !(it.args as String).contains('wJalrXUtnFEMI') }
        // And the token is gone from the environment after the block.
        assert !p.env.containsKey('SHORTFUSE_TOKEN')
    }

    void testRevokesWhenTheBlockFails() {
        p.inputAnswers << TOKEN
        p.shHandler = { Map args ->
            if (args.script.contains("'exec'")) {
                throw new PipelineFailure('script returned exit code 2')
            }
            return 0
        }
        String msg = Assert.fails {
            p.load('withShortfuse').call(secrets: [A: '/prod/a']) { sh 'false' }
        }
        assert msg == 'script returned exit code 2'
        assert p.callsOf('sh').last().args.script == "'shortfuse' 'revoke' '--self'"
    }

    void testReportsAFailedRevocation() {
        p.inputAnswers << TOKEN
        p.shHandler = { Map args -> args.returnStatus ? 3 : null }
        p.load('withShortfuse').call([:]) { sh 'true' }
        assert p.callsOf('echo').last().args.contains('could not be revoked (exit 3)')
    }

    void testRefusesAMalformedTokenWithoutShowingIt() {
        p.inputAnswers << 'hunter2-secret:ASIAEXAMPLE7Q4ZKXYZW'
        String msg = Assert.fails {
            p.load('withShortfuse').call(role: ROLE) { sh 'true' }
        }
        assert msg.contains('the token has 2 parts')
        assert msg.contains("shortfuse token --role ${ROLE}")
        assert !msg.contains('hunter2')
        assert p.callsOf('sh').isEmpty()
    }

    void testRefusesBadOptionsBeforeAsking() {
        String msg = Assert.fails {
            p.load('withShortfuse').call(secrets: [AWS_SECRET_ACCESS_KEY: '/x']) { sh 'true' }
        }
        assert msg.startsWith('withShortfuse: secrets: AWS_SECRET_ACCESS_KEY')
        assert p.callsOf('input').isEmpty()
    }

    void testAcceptsASecretObject() {
        p.inputAnswers << new Object() {
            String getPlainText() { TOKEN }
        }
        p.load('withShortfuse').call([:]) { sh 'true' }
        assert p.callsOf('sh')[0].env.SHORTFUSE_TOKEN == TOKEN
    }

    void testApprovalModeRequestsBoundToTheBuild() {
        p.params = [ENV: 'prod', DRY_RUN: false, DB_PASSWORD: new Object() {
            String getPlainText() { 'hunter2' }
        }]
        p.shHandler = { Map args ->
            if (args.script.contains("'request'")) {
                assert args.returnStdout == true
                return TOKEN + '\n'
            }
            return args.returnStatus ? 0 : null
        }
        def result = p.load('withShortfuse').call(approval: true, role: ROLE, reason: 'release 1.4', secrets: [DB: '/prod/db#password']) {
            sh './deploy.sh'
            'done'
        }
        assert result == 'done'
        // No input step, nothing pasted.
        assert p.callsOf('input').isEmpty()
        assert p.callsOf('timeout')[0].args == [time: 30, unit: 'MINUTES']
        List<Map> sh = p.callsOf('sh')
        assert sh.size() == 3
        assert Assert.argv(sh[0].args.script) == ['request', '--role', ROLE, '--duration', '15m', '--format', 'jenkins', '--reason', 'release 1.4']
        assert sh[0].args.label == 'shortfuse request: waiting for approval'
        // The build's parameters go to the hash, a secret one by its type only.
        // (The stand-in secret is an anonymous class: its type has no name.)
        assert sh[0].env.SHORTFUSE_BUILD_PARAMS == '{"DB_PASSWORD":"<>","DRY_RUN":"false","ENV":"prod"}'
        assert !sh[0].env.SHORTFUSE_BUILD_PARAMS.contains('hunter2')
        assert !sh[0].env.containsKey('SHORTFUSE_TOKEN')
        // The token the request returned runs the block and is revoked.
        assert sh[1].args.script.startsWith("'shortfuse' 'exec'")
        assert sh[1].env.SHORTFUSE_TOKEN == TOKEN
        assert sh[2].args.script == "'shortfuse' 'revoke' '--self'"
        assert p.callsOf('echo')[0].args.contains('asking for approval of a session of ' + ROLE)
        p.calls.findAll { it.step in ['echo', 'error'] }.each { assert !(it.args as String).contains('wJalrXUtnFEMI') }
        assert !p.env.containsKey('SHORTFUSE_TOKEN')
    }

    void testApprovalModeFailsWhenDeniedOrEmpty() {
        p.shHandler = { Map args ->
            if (args.script.contains("'request'")) {
                throw new PipelineFailure('script returned exit code 1')
            }
            return 0
        }
        String msg = Assert.fails {
            p.load('withShortfuse').call(approval: true, role: ROLE) { sh 'true' }
        }
        assert msg == 'script returned exit code 1'
        assert p.callsOf('sh').size() == 1

        p = new Pipeline(new File('.'))
        p.shHandler = { Map args -> args.returnStdout ? '' : 0 }
        msg = Assert.fails {
            p.load('withShortfuse').call(approval: true, role: ROLE) { sh 'true' }
        }
        assert msg.contains('shortfuse request gave no usable token (the token is empty)')
        assert p.callsOf('sh').size() == 1
    }

    void testApprovalModeRefusesInputOptions() {
        String msg = Assert.fails {
            p.load('withShortfuse').call(approval: true, role: ROLE, approver: 'ops') { sh 'true' }
        }
        assert msg.contains('approver does not apply with approval')
        assert p.callsOf('sh').isEmpty()
        msg = Assert.fails {
            p.load('withShortfuse').call(approval: true) { sh 'true' }
        }
        assert msg.contains('approval needs role')
    }
}
