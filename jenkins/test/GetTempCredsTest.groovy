class GetTempCredsTest {
    static final String TOKEN = 'sfs1.AbC-_xyz:ASIAEXAMPLE7Q4ZKXYZW:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'

    Pipeline p = new Pipeline(new File('.'))

    void testReturnsTheThreeParts() {
        p.inputAnswers << TOKEN + '\n'
        def (sessionToken, accessKeyId, secretAccessKey) = p.load('getTempCreds').call(role: 'arn:aws:iam::111122223333:role/deploy', approver: 'ops')
        assert sessionToken == 'sfs1.AbC-_xyz'
        assert accessKeyId == 'ASIAEXAMPLE7Q4ZKXYZW'
        assert secretAccessKey == 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'
        Map input = p.callsOf('input')[0].args
        assert input.submitter == 'ops'
        assert input.parameters[0].passwordParameter.description.contains('shortfuse token --role arn:aws:iam::111122223333:role/deploy')
    }

    void testFailsLoudly() {
        p.inputAnswers << ''
        String msg = Assert.fails { p.load('getTempCreds').call() }
        assert msg == 'failed to get temporary credentials: the token is empty'
    }

    void testRefusesExecOptions() {
        String msg = Assert.fails { p.load('getTempCreds').call(secrets: [A: '/x']) }
        assert msg.startsWith('getTempCreds: unknown option(s) [secrets]')
    }
}
