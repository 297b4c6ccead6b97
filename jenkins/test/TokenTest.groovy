import io.shortfuse.jenkins.Token

class TokenTest {
    static final String TOKEN = 'sfs1.AbC-_xyz:ASIAEXAMPLE7Q4ZKXYZW:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'

    void testSplit() {
        assert Token.split(TOKEN) == ['sfs1.AbC-_xyz', 'ASIAEXAMPLE7Q4ZKXYZW', 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY']
        assert Token.split(TOKEN + '\n') == Token.split(TOKEN)
        assert Token.problem(TOKEN) == null
    }

    void testProblemsNeverQuoteTheInput() {
        Map<String, String> cases = [
            ''                                      : 'empty',
            'a:b'                                   : 'has 2 parts',
            'a:ASIAEXAMPLE7Q4ZKXYZW:s:extra'        : 'has 4 parts',
            'tok en:ASIAEXAMPLE7Q4ZKXYZW:s'         : 'white space',
            'tok::secret'                           : 'empty',
            'tok:not-a-key-hunter2:secret'          : 'not an access key id',
        ]
        cases.each { input, want ->
            String p = Token.problem(input)
            assert p != null && p.contains(want)
            input.split(':').findAll { it.length() > 3 }.each { part -> assert !p.contains(part) }
        }
    }

    void testPlainOfSecretLikeAnswers() {
        def secret = new Object() {
            String getPlainText() { TOKEN }
            String toString() { '********' }
        }
        assert Token.plain(secret) == TOKEN
        assert Token.plain(TOKEN) == TOKEN
        assert Token.plain(null) == ''
    }
}
