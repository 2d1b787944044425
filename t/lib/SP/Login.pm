package SP::Login;
# One "browser" for the login tests (t/6NN-login-*.t): HTTP::Tiny with a
# cookie jar per origin, the bundled provider's dev login and consent forms
# (idp/provider.js), the spiderpig login pages, and RFC 6238 codes computed
# here from the otpauth secret (HMAC-SHA1, 6 digits, 30 s).
#
#   my $b = SP::Login->new($stack);
#   my $cb = $b->login('alice');          # GET /login ... /login/callback
#   my $r = $b->enrol_totp;               # GET /totp, POST the first code
#   $b->get('/tokens'); $b->post_form('/tokens', {name => 'x'});
use strict;
use warnings;

use Carp qw(croak);
use Digest::SHA qw(hmac_sha1);
use HTTP::Tiny;
use IO::Socket::SSL;

sub new {
    my ($class, $stack, %opt) = @_;
    return bless {
        s    => $stack,
        jar  => {},          # origin => {name => value}
        ua   => HTTP::Tiny->new(verify_SSL => 0,
            SSL_options => { SSL_verify_mode => SSL_VERIFY_NONE },
            max_redirect => 0, timeout => 30, keep_alive => 0,
            agent => 'Mozilla/5.0 (spiderpig login test)'),
        set_cookies => [],   # every Set-Cookie line seen from the app
    }, $class;
}

sub jar { $_[0]{jar} }

sub _origin { $_[0] =~ m{^(https?://[^/]+)} ? $1 : croak "not absolute: $_[0]" }

# The value of cookie name for the app, or undef.
sub cookie {
    my ($self, $name) = @_;
    return $self->{jar}{ _origin($self->{s}->base_url) }{$name};
}

sub set_cookie {
    my ($self, $name, $value) = @_;
    $self->{jar}{ _origin($self->{s}->base_url) }{$name} = $value;
}

sub _abs {
    my ($self, $url, $base) = @_;
    return $url if $url =~ m{^https?://};
    return _origin($base // $self->{s}->base_url) . $url if $url =~ m{^/};
    croak "relative URL $url";
}

# request(METHOD, URL or /path, {headers => {...}, content => ...})
# Sends the jar's cookies for that origin and takes the answer's.
sub request {
    my ($self, $method, $url, $opt) = @_;
    $url = $self->_abs($url);
    my $o = _origin($url);
    my %h = %{ $opt->{headers} // {} };
    my $jar = $self->{jar}{$o} //= {};
    $h{Cookie} = join('; ', map { "$_=$jar->{$_}" } sort keys %$jar) if %$jar && !exists $h{Cookie};
    delete $h{Cookie} if exists $h{Cookie} && !defined $h{Cookie};
    my $res = $self->{ua}->request($method, $url,
        { headers => \%h, defined $opt->{content} ? (content => $opt->{content}) : () });
    my $sc = $res->{headers}{'set-cookie'};
    for my $line (ref $sc ? @$sc : defined $sc ? ($sc) : ()) {
        push @{ $self->{set_cookies} }, $line if $o eq _origin($self->{s}->base_url);
        my ($n, $v) = $line =~ /^\s*([^=;\s]+)=([^;]*)/ or next;
        if ($line =~ /max-age=0\b/i || $v eq '') { delete $jar->{$n} } else { $jar->{$n} = $v }
    }
    $res->{set_cookie_lines} = [ ref $sc ? @$sc : defined $sc ? ($sc) : () ];
    return $res;
}

sub get { $_[0]->request(GET => $_[1], $_[2]) }

sub _form_encode {
    my ($f) = @_;
    my @pairs = ref $f eq 'ARRAY' ? @$f : map { ($_, $f->{$_}) } sort keys %$f;
    my @out;
    while (my ($k, $v) = splice(@pairs, 0, 2)) {
        push @out, join '=', map { (my $x = $_) =~ s/([^A-Za-z0-9._~-])/sprintf('%%%02X', ord $1)/ge; $x } $k, $v;
    }
    return join '&', @out;
}

# POST an application/x-www-form-urlencoded form (hash or [k, v, ...]).
sub post_form {
    my ($self, $url, $fields, %h) = @_;
    return $self->request(POST => $url, { content => _form_encode($fields),
        headers => { 'Content-Type' => 'application/x-www-form-urlencoded', %h } });
}

# The hidden inputs and action of the first form in html (for the
# provider's pages and ours).
sub form_fields {
    my ($html) = @_;
    my ($action) = $html =~ /<form[^>]*action="([^"]*)"/;
    my %f;
    while ($html =~ /<input([^>]*)>/g) {
        my $a = $1;
        my ($n) = $a =~ /name="([^"]*)"/ or next;
        my ($v) = $a =~ /value="([^"]*)"/;
        $f{$n} = defined $v ? _unescape($v) : '';
    }
    return ($action, \%f);
}

sub _unescape {
    my ($s) = @_;
    $s =~ s/&quot;/"/g; $s =~ s/&#39;/'/g; $s =~ s/&lt;/</g; $s =~ s/&gt;/>/g; $s =~ s/&amp;/&/g;
    return $s;
}

# GET /login (query: return_to) and walk the provider's login and consent
# pages as user; returns the callback URL the provider sends the browser to
# (not yet followed), or dies.
sub to_callback {
    my ($self, $user, %opt) = @_;
    my $res = $self->get('/login' . (defined $opt{return_to} ? "?return_to=$opt{return_to}" : ''));
    croak "GET /login: $res->{status} $res->{content}" unless $res->{status} == 302;
    my $url = $res->{headers}{location};
    $self->{last_authorize} = $url;
    for (1 .. 15) {
        return $url if index($url, $self->{s}->base_url . '/login/callback') == 0;
        $res = $self->get($url);
        if ($res->{status} =~ /^30[1237]$/) {
            $url = $self->_abs($res->{headers}{location}, $url);
            next;
        }
        croak "provider page $url: $res->{status} $res->{content}" unless $res->{status} == 200;
        my ($action, $f) = form_fields($res->{content});
        croak "no form on $url:\n$res->{content}" unless defined $action;
        if (($f->{prompt} // '') eq 'login') {
            $f->{login} = $user;
            $f->{password} = 'x';
        }
        $res = $self->post_form($self->_abs(_unescape($action), $url), $f);
        croak "POST $action: $res->{status} $res->{content}" unless $res->{status} =~ /^30[237]$/;
        $url = $self->_abs($res->{headers}{location}, $url);
    }
    croak "too many steps at the provider";
}

# The whole first factor: returns the callback's answer.
sub login {
    my ($self, $user, %opt) = @_;
    my $cb = $self->to_callback($user, %opt);
    $self->{last_callback} = $cb;
    return $self->get($cb);
}

# ---- TOTP --------------------------------------------------------------

sub base32_decode {
    my ($s) = @_;
    my $alpha = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
    $s = uc $s;
    $s =~ s/=+$//;
    my $bits = join '', map { sprintf '%05b', index($alpha, $_) } split //, $s;
    $bits = substr($bits, 0, length($bits) - length($bits) % 8);
    return pack 'B*', $bits;
}

# RFC 6238 with HMAC-SHA1, 6 digits, 30 s steps, at time t (default now).
sub totp_code {
    my ($secret, $t) = @_;
    my $c = int(($t // time) / 30);
    my $h = hmac_sha1(pack('NN', int($c / 2**32), $c % 2**32), $secret);
    my $o = ord(substr($h, -1)) & 0x0f;
    my $v = (unpack('N', substr($h, $o, 4)) & 0x7fffffff) % 1_000_000;
    return sprintf '%06d', $v;
}

# GET /totp: returns {res, csrf, return_to, secret (raw bytes, enrolment
# only), uri}.
sub totp_page {
    my ($self, $return_to) = @_;
    my $res = $self->get('/totp' . (defined $return_to ? "?return_to=$return_to" : ''));
    my %p = (res => $res);
    return \%p unless $res->{status} == 200;
    my (undef, $f) = form_fields($res->{content});
    $p{csrf} = $f->{csrf};
    $p{return_to} = $f->{return_to};
    if ($res->{content} =~ m{(otpauth://totp/[^<"\s]+)}) {
        $p{uri} = _unescape($1);
        my ($b32) = $p{uri} =~ /[?&]secret=([A-Z2-7]+)/;
        $p{secret} = base32_decode($b32) if $b32;
    }
    return \%p;
}

# POST a code to /totp with the page's csrf (or %over's).
sub totp_submit {
    my ($self, $page, $code, %over) = @_;
    return $self->post_form('/totp', { csrf => $page->{csrf}, code => $code,
        defined $page->{return_to} && length $page->{return_to} ? (return_to => $page->{return_to}) : (),
        %over });
}

# Enrol (first login): GET /totp, POST the current code. Returns the answer;
# the secret is kept in $self->{secret} for later logins.
sub enrol_totp {
    my ($self, $return_to) = @_;
    my $p = $self->totp_page($return_to);
    croak "GET /totp: $p->{res}{status}" unless $p->{secret};
    $self->{secret} = $p->{secret};
    return $self->totp_submit($p, totp_code($p->{secret}));
}

# A new API token through /tokens as a person gets one: POST the form (303
# back to /tokens), then read the token the page shows once. Returns the
# token, or undef; the POST's answer is in $self->{last_post}.
sub create_token {
    my ($self, $name, %f) = @_;
    my $csrf = csrf_of($self->get('/tokens')->{content});
    my $r = $self->post_form('/tokens', { csrf => $csrf, name => $name, %f });
    $self->{last_post} = $r;
    return undef unless $r->{status} == 303;
    my $page = $self->get('/tokens');
    return $page->{content} =~ m{<code class="token">([^<]+)</code>} ? $1 : undef;
}

# The hidden csrf of a page of ours.
sub csrf_of {
    my ($html) = @_;
    return $html =~ /name="csrf" value="([^"]*)"/ ? _unescape($1) : undef;
}

1;
